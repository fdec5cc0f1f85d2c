"""Streaming vs in-memory data: peak resident memory and step time, training a DCGAN on 60,000 images at 64x64.

    python tools/bench_streaming.py [--n 60000] [--size 64] [--batch 64] [--steps 10] [--rounds 5]

The data is Fashion-MNIST's 60,000 training images upsampled to --size, written once to --workdir as a folder
of PNG files and as one uint8 ``.npy`` (about 250 MB at 64x64). Each mode runs in its own process, so its peak
resident memory (``VmHWM``) is its own:

- ``in_memory``: ``load_dataset(x.npy, stream=False)`` (the array loaded, converted to float32 and resized in
  memory: what every spec did before streaming);
- ``folder`` and ``npy``: ``load_dataset(..., stream=True)`` (decode, resize and scale in the `tf.data`
  pipeline; rows of the ``.npy`` read with ``pread``).

In each process the same `Trainer` step also runs on one in-memory batch (``Dataset.from_tensors(batch)``),
interleaved with the pipeline in --rounds rounds; the fastest round of each gives the step-time ratio
pipeline / in-memory batch (target <= 1.05). Writes ``docs/bench/streaming.json``.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

MODES = ("in_memory", "folder", "npy")


def peak_rss_mb():
    """This process's peak resident memory: VmHWM (``ru_maxrss`` would carry the parent's over exec)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024.0


def prepare(workdir, n, size):
    """Write the folder of PNGs and the .npy once (a marker file says they are complete)."""
    marker = os.path.join(workdir, f"ready-{n}-{size}")
    folder, array = os.path.join(workdir, "images"), os.path.join(workdir, "x.npy")
    if os.path.exists(marker):
        return folder, array
    import numpy as np
    from PIL import Image

    from keras_transfer_gan.data.mnist_family import fashion_mnist

    images, _ = fashion_mnist("train", download=False)
    images = np.resize((images[..., 0] * 255).round().astype(np.uint8), (n, 28, 28))  # tiled if n > 60,000
    os.makedirs(folder, exist_ok=True)
    out = np.lib.format.open_memmap(array + ".tmp", mode="w+", dtype=np.uint8, shape=(n, size, size))
    for i, image in enumerate(images):
        big = Image.fromarray(image).resize((size, size), Image.BILINEAR)
        big.save(os.path.join(folder, f"{i:06d}.png"))
        out[i] = np.asarray(big)
    out.flush()
    del out
    os.replace(array + ".tmp", array)
    open(marker, "w").close()
    return folder, array


def child(args):
    """One mode in this process: prints one JSON line."""
    import keras

    from bench_common import pipeline_vs_batch, round_stats
    from keras_transfer_gan import create_model, load_dataset
    from keras_transfer_gan.training import compile_for_training

    folder, array = os.path.join(args.workdir, "images"), os.path.join(args.workdir, "x.npy")
    keras.mixed_precision.set_global_policy(args.precision)
    keras.utils.set_random_seed(0)
    start = time.perf_counter()
    spec, stream = {"in_memory": (array, False), "folder": (folder, True), "npy": (array, True)}[args.child]
    pipeline = load_dataset(spec, image_size=args.size, batch_size=args.batch, drop_remainder=True, repeat=True,
                            stream=stream)
    next(iter(pipeline))
    ready_seconds = time.perf_counter() - start
    rss_ready = peak_rss_mb()
    model = create_model("dcgan", image_size=args.size, g_filters=args.filters, d_filters=args.filters)
    compile_for_training(model)
    times = pipeline_vs_batch(model, pipeline, args.rounds, args.steps)
    best = {name: round_stats(v)["best"] for name, v in times.items()}
    print(json.dumps({"mode": args.child, "first_batch_seconds": ready_seconds, "rss_mb_data_ready": rss_ready,
                      "peak_rss_mb": peak_rss_mb(), "seconds_per_step": times, "best": best,
                      "step_ratio": best["pipeline"] / best["in_memory_batch"]}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--workdir", default="/tmp/ktg_bench_streaming")
    parser.add_argument("--out", default="docs/bench/streaming.json")
    parser.add_argument("--child", choices=MODES, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    from bench_common import machine, write_json

    t = time.perf_counter()
    prepare(args.workdir, args.n, args.size)
    print(f"data: {args.n} images at {args.size}x{args.size} in {args.workdir} ({time.perf_counter() - t:.0f} s)")
    results = {}
    for mode in args.modes.split(","):
        command = [sys.executable, os.path.abspath(__file__), "--child", mode] + [
            f"--{k}={v}" for k, v in vars(args).items() if k not in ("child", "modes", "out")]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"bench_streaming: mode {mode} failed:\n{done.stderr[-3000:]}")
        results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    base = results.get("in_memory")
    print(f"{'mode':<10} {'peak RSS MB':>11} {'vs in-memory':>12} {'first batch s':>13} {'ms/step':>8} "
          f"{'pipeline / in-memory batch':>27}")
    for mode, r in results.items():
        vs = f"{r['peak_rss_mb'] / base['peak_rss_mb']:.2f}x" if base else "n/a"
        print(f"{mode:<10} {r['peak_rss_mb']:11.0f} {vs:>12} {r['first_batch_seconds']:13.1f} "
              f"{1e3 * r['best']['pipeline']:8.1f} {r['step_ratio']:27.3f}")
    write_json(args.out, {"config": {k: v for k, v in vars(args).items() if k != "child"}, "machine": machine(),
                          "results": results})


if __name__ == "__main__":
    main()
