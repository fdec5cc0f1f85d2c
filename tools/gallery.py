"""Short runs of every zoo architecture on built-in data, for the README's gallery.

    python tools/gallery.py --out docs/gallery          # about 10 minutes on 2 CPU cores

Each run is an ordinary `ktg train` (its settings are printed and written to
``gallery.json``); the sample grid (or text) is copied to ``OUT/NAME.png``
(``OUT/char_lstm.txt``). ImageNet weights cannot be downloaded on the build
machines, so the feature-backbone generator's VGG19 starts from random weights
here (``backbone_weights=None``); with network access, leave that argument out.
"""

import argparse
import json
import os
import shutil
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_transfer_gan import cli  # noqa: E402

RUNS = {
    "dcgan": ["--dataset", "digits", "--epochs", "10", "--model_args", "g_filters=32,d_filters=32"],
    "wgan_gp": ["--dataset", "digits", "--epochs", "6", "--model_args", "g_filters=32,d_filters=32"],
    "acgan": ["--dataset", "digits", "--epochs", "10", "--model_args", "g_filters=32,d_filters=32"],
    "cgan": ["--dataset", "digits", "--epochs", "10", "--model_args", "g_filters=32,d_filters=32"],
    "vae": ["--dataset", "digits", "--epochs", "10"],
    "cvae": ["--dataset", "digits", "--epochs", "10"],
    "feature_generator": ["--dataset", "digits_m", "--epochs", "6",
                          "--model_args", "backbone_weights=None,g_filters=32,d_filters=32"],
    "char_lstm": ["--dataset", "pydocs", "--epochs", "3", "--seq_len", "64",
                  "--length", "300", "--prompt", "Return the "],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/gallery")
    parser.add_argument("--work", default="runs/gallery", help="where the full runs go")
    parser.add_argument("--only", nargs="*", help="a subset of architectures (the others' entries are kept)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    summary_path = os.path.join(args.out, "gallery.json")
    summary = {}
    if args.only and os.path.isfile(summary_path):
        with open(summary_path) as f:
            summary = json.load(f)
    for name, extra in RUNS.items():
        if args.only and name not in args.only:
            continue
        run_dir = os.path.join(args.work, name)
        shutil.rmtree(run_dir, ignore_errors=True)
        argv = ["ktg", "train", "--model", name, "--out", run_dir, "--verbose", "0", *extra]
        print(" ".join(argv), flush=True)
        start = time.perf_counter()
        cli.FLAGS.unparse_flags()
        if cli.main(cli.FLAGS(argv)) != 0:
            raise SystemExit(f"{name}: training failed")
        with open(os.path.join(run_dir, "metrics.json")) as f:
            metrics = json.load(f)
        text = name == "char_lstm"
        source = os.path.join(run_dir, "samples.txt" if text else "samples.png")
        target = os.path.join(args.out, f"{name}.txt" if text else f"{name}.png")
        shutil.copyfile(source, target)
        summary[name] = {
            "command": " ".join(argv[:4] + extra),
            "seconds": round(time.perf_counter() - start, 1),
            "train_seconds": metrics["seconds"],
            "final": {k: round(v[-1], 4) for k, v in metrics["history"].items() if k != "step"},
            "steps": metrics["history"]["step"][-1] if "step" in metrics["history"] else None,
            "sample": os.path.basename(target),
        }
        print(f"  -> {target} ({summary[name]['seconds']} s)", flush=True)
        with open(summary_path, "w") as f:
            json.dump({k: summary[k] for k in RUNS if k in summary}, f, indent=2)


if __name__ == "__main__":
    main()
