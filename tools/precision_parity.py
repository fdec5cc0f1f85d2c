"""Quality parity of mixed_bfloat16 against float32: FID of a short zoo-like run, per seed, in one process.

    python tools/precision_parity.py                      # DCGAN 32x32 on Fashion-MNIST, 500 steps, seeds 0,1,2
    python tools/precision_parity.py --steps 200 --seeds 0 --n_fake 200     # smoke run

Each (precision, seed) trains the same architecture from the same seed on the same data (all of Fashion-MNIST's
train split, batch 64) for --steps `Trainer` steps, then measures FID of --n_fake samples against the whole
test split on the `fashion_classifier` evaluator. bfloat16 is at parity when the gap between the mean FIDs is
within the seed-to-seed spread of float32 (the noise of a run this short). Step times are printed beside
(they depend on the CPU: bfloat16 is emulated, and slow, without AVX512_BF16 or AMX). Writes
``docs/bench/precision_parity.json``.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from bench_common import machine  # noqa: E402
from keras_transfer_gan import create_model  # noqa: E402
from keras_transfer_gan.data import load_dataset, load_images  # noqa: E402
from keras_transfer_gan.metrics import evaluate_samples  # noqa: E402
from keras_transfer_gan.training import Trainer, compile_for_training, precision_scope  # noqa: E402


def run(precision, seed, args, reference):
    with precision_scope(precision):
        keras.utils.set_random_seed(seed)
        model = create_model(args.model, image_size=args.size, channels=1)
        compile_for_training(model)
        data = load_dataset(args.dataset, image_size=args.size, batch_size=args.batch, drop_remainder=True,
                            repeat=True, seed=seed)
        trainer = Trainer(model, verbose=0)
        trainer.fit(data, epochs=1, steps_per_epoch=10)  # trace outside the timing
        start = time.perf_counter()
        trainer.fit(data, epochs=1, steps_per_epoch=args.steps - 10)
        seconds = time.perf_counter() - start
        fake = np.asarray(model.generate(args.n_fake, seed=seed + 1000), np.float32)
    fid = evaluate_samples(reference, fake, extractor=args.extractor, metrics=("fid",),
                           reference_key=f"{args.dataset}-test-{args.size}")["fid"]
    return {"precision": precision, "seed": seed, "fid": float(fid), "seconds": seconds,
            "ms_per_step": 1e3 * seconds / (args.steps - 10)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--extractor", default="fashion_classifier")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--precisions", default="float32,mixed_bfloat16")
    parser.add_argument("--n_fake", type=int, default=2000)
    parser.add_argument("--out", default="docs/bench/precision_parity.json")
    args = parser.parse_args(argv)
    reference, _ = load_images(args.dataset, image_size=args.size, channels=1, split="test")
    runs = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for precision in args.precisions.split(","):  # interleaved: a slow spell of the machine hits both
            runs.append(run(precision, seed, args, reference))
            r = runs[-1]
            print(f"{precision:<15} seed {seed}  FID {r['fid']:6.2f}  {r['ms_per_step']:6.1f} ms/step", flush=True)
    summary = {}
    for precision in args.precisions.split(","):
        fids = [r["fid"] for r in runs if r["precision"] == precision]
        steps = [r["ms_per_step"] for r in runs if r["precision"] == precision]
        summary[precision] = {"fid_mean": float(np.mean(fids)), "fid_spread": float(np.ptp(fids)),
                              "ms_per_step": float(np.min(steps))}
    names = args.precisions.split(",")
    base, other = summary[names[0]], summary[names[-1]]
    gap = abs(other["fid_mean"] - base["fid_mean"])
    noise = max(base["fid_spread"], other["fid_spread"])
    print(f"mean FID {names[0]} {base['fid_mean']:.2f}, {names[-1]} {other['fid_mean']:.2f}: gap {gap:.2f}, "
          f"seed spread {noise:.2f} -> {'within' if gap <= noise else 'OUTSIDE'} the noise; step time "
          f"{other['ms_per_step'] / base['ms_per_step']:.2f}x")
    print(machine())
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"config": vars(args), "machine": machine(), "runs": runs, "summary": summary,
                   "gap": gap, "noise": noise, "within_noise": gap <= noise}, f, indent=2)


if __name__ == "__main__":
    main()
