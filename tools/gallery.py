"""Short runs of every zoo architecture on built-in data, for the README's gallery.

    python tools/gallery.py --out docs/gallery          # about 10 minutes on 2 CPU cores

Each run is the registry entry's `short_run` through `keras_transfer_gan.runs.train_run` (what `ktg train`
does; its settings are printed and written to ``gallery.json``); the sample grid (or text) is copied to
``OUT/NAME.png`` (``OUT/NAME.txt`` for a text model). ImageNet weights cannot be downloaded on the build
machines, so the feature-backbone generator's short run starts VGG19 from random weights
(``backbone_weights=None``); with network access, leave that argument out.
"""

import argparse
import json
import os
import shutil
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_transfer_gan.registry import get_entry, list_models  # noqa: E402
from keras_transfer_gan.runs import train_run  # noqa: E402


def _command(name, settings):
    flags = " ".join(f"--{k} {v if not isinstance(v, dict) else ','.join(f'{a}={b}' for a, b in v.items())}"
                     for k, v in settings.items())
    return f"ktg train --model {name} {flags}"


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
    names = [n for n in list_models() if get_entry(n).short_run and (not args.only or n in args.only)]
    for name in names:
        settings = get_entry(name).short_run
        run_dir = os.path.join(args.work, name)
        shutil.rmtree(run_dir, ignore_errors=True)
        command = _command(name, settings)
        print(command, flush=True)
        start = time.perf_counter()
        paths = train_run(name, out=run_dir, verbose=0, **settings)
        with open(paths["metrics"]) as f:
            metrics = json.load(f)
        target = os.path.join(args.out, f"{name}{os.path.splitext(paths['samples'])[1]}")
        shutil.copyfile(paths["samples"], target)
        summary[name] = {
            "command": command,
            "seconds": round(time.perf_counter() - start, 1),
            "train_seconds": metrics["seconds"],
            "final": {k: round(v[-1], 4) for k, v in metrics["history"].items() if k != "step"},
            "steps": metrics["history"]["step"][-1] if "step" in metrics["history"] else None,
            "sample": os.path.basename(target),
        }
        print(f"  -> {target} ({summary[name]['seconds']} s)", flush=True)
        with open(summary_path, "w") as f:
            json.dump(dict(sorted(summary.items())), f, indent=2)


if __name__ == "__main__":
    main()
