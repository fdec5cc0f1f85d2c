"""Transfer versus scratch: FID/KID against steps for N target images, several methods and seeds.

    python tools/transfer_study.py                       # defaults: about 15 minutes on 2 CPU cores
    python tools/transfer_study.py --sizes 25 --seeds 0 --steps 100 --eval_every 50 --out /tmp/s   # smoke run

For each N in --sizes (``all`` = the whole target set) and each seed, trains from scratch, TrGAN,
TrGAN + Freeze-D and TrGAN + Freeze-D + DiffAugment with the same step budget (see
`keras_transfer_gan.transfer.comparison`), evaluates FID and KID against the *whole* target set every
--eval_every steps, and writes ``transfer_study.md`` (mean +- std over seeds at the last step and at the
best step), ``transfer_study.png`` (FID against steps) and ``transfer_study.json`` (every curve) to --out.
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from keras_transfer_gan.data import load_images  # noqa: E402
from keras_transfer_gan.metrics import get_extractor  # noqa: E402
from keras_transfer_gan.transfer import load_pretrained  # noqa: E402
from keras_transfer_gan.transfer.comparison import METHODS, nearest_rmse, run_arm  # noqa: E402

LABELS = {"scratch": "scratch", "trgan": "TrGAN", "trgan_freezed": "TrGAN + Freeze-D",
          "trgan_freezed_diffaugment": "TrGAN + Freeze-D + DiffAugment"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="dcgan_digits", help="zoo name or model file of the source GAN")
    parser.add_argument("--target", default="digits_m", help="target dataset spec")
    parser.add_argument("--sizes", default="25,100,all", help="target images per run (comma list; 'all')")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--eval_every", type=int, default=100)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--freeze_d", type=int, default=2)
    parser.add_argument("--n_fake", type=int, default=500)
    parser.add_argument("--extractor", default="digits_classifier")
    parser.add_argument("--out", default="docs")
    return parser.parse_args(argv)


def _mean_curve(arm, key):
    return np.mean([[p[key] for p in r["curve"]] for r in arm], axis=0)


def summarize(runs, methods, sizes):
    """Markdown rows per N and method (mean +- std over seeds): FID, KID, precision/recall and memorisation at
    the last step, the best FID, and the steps needed to reach scratch's best FID (time-to-quality)."""
    lines = ["| N | method | FID (last) | KID (last) | precision / recall | memorisation | best FID (step) | "
             "steps to scratch's best FID |", "|---|---|---|---|---|---|---|---|"]
    for n in sizes:
        arms = {m: [r for r in runs if r["n_label"] == n and r["method"] == m] for m in methods}
        scratch = arms.get("scratch")
        target = float(_mean_curve(scratch, "fid").min()) if scratch else None
        for method, arm in arms.items():
            if not arm:
                continue
            fid = [r["curve"][-1]["fid"] for r in arm]
            kid = [r["curve"][-1]["kid"] for r in arm]
            steps = [p["step"] for p in arm[0]["curve"]]
            curve = _mean_curve(arm, "fid")
            best = int(np.argmin(curve))
            reach = next((steps[i] for i, v in enumerate(curve) if target is not None and v <= target), None)
            ratios = [r["curve"][-1]["nn_train"] / r["nn_real"] for r in arm if r.get("nn_real")]
            memo = f"{np.mean(ratios):.2f}" if ratios else "n/a"
            lines.append(
                f"| {n} | {LABELS[method]} | {np.mean(fid):.2f} +- {np.std(fid):.2f} | {np.mean(kid):.3f} +- "
                f"{np.std(kid):.3f} | {_mean_curve(arm, 'precision')[-1]:.2f} / {_mean_curve(arm, 'recall')[-1]:.2f} | "
                f"{memo} | {curve[best]:.2f} ({steps[best]}) | {'not reached' if reach is None else reach} |")
    return lines


def plot(runs, methods, sizes, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sizes), figsize=(4.5 * len(sizes), 3.6), squeeze=False, sharey=True)
    for ax, n in zip(axes[0], sizes):
        for method in methods:
            arm = [r for r in runs if r["n_label"] == n and r["method"] == method]
            if not arm:
                continue
            steps = [p["step"] for p in arm[0]["curve"]]
            curves = np.array([[p["fid"] for p in r["curve"]] for r in arm])
            ax.plot(steps, curves.mean(0), marker="o", ms=3, label=LABELS[method])
            ax.fill_between(steps, curves.min(0), curves.max(0), alpha=0.15)
        ax.set_yscale("log")  # scratch starts two orders of magnitude above the transferred arms
        ax.set_title(f"N = {n} target images")
        ax.set_xlabel("training steps")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("FID (digits-classifier features)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = [s.strip() for s in args.sizes.split(",")]
    source = load_pretrained(args.source)
    extractor = get_extractor(args.extractor)
    reference, _ = load_images(args.target, image_size=source.image_size, channels=3)
    key = f"{args.target}-all-{source.image_size}"
    runs, start = [], time.perf_counter()
    for n_label in sizes:
        n = len(reference) if n_label == "all" else int(n_label)
        for seed in seeds:
            images, _ = load_images(args.target, image_size=source.image_size, channels=3, limit=n, seed=seed)
            held_out = reference[nearest_rmse(reference, images) > 1e-6][:500]  # real images not trained on
            for method in methods:
                result = run_arm(method, source, images, args.steps, args.eval_every, reference, extractor,
                                 batch_size=args.batch_size, seed=seed, n_fake=args.n_fake, freeze_d=args.freeze_d,
                                 reference_key=key, held_out=held_out)
                result.pop("model"), result.pop("report")
                result["n_label"] = n_label
                runs.append(result)
                print(f"N={n_label:>4} seed={seed} {method:<26} FID {result['curve'][0]['fid']:7.2f} -> "
                      f"{result['curve'][-1]['fid']:7.2f}  ({result['train_seconds']:.0f} s training, "
                      f"{time.perf_counter() - start:.0f} s so far)", flush=True)
    total = time.perf_counter() - start
    os.makedirs(args.out, exist_ok=True)
    command = "python tools/transfer_study.py " + " ".join(argv if argv is not None else sys.argv[1:])
    settings = {k: v for k, v in vars(args).items()}
    with open(os.path.join(args.out, "transfer_study.json"), "w") as f:
        json.dump({"settings": settings, "command": command.strip(), "seconds": round(total, 1),
                   "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}", "runs": runs}, f, indent=1)
    plot(runs, methods, sizes, os.path.join(args.out, "transfer_study.png"))
    lines = ["# Transfer study: scratch vs TrGAN vs Freeze-D vs DiffAugment", "",
             f"Command: `{command.strip()}` ({total / 60:.1f} minutes on {os.cpu_count()} CPU cores, "
             f"{platform.machine()}).", "",
             f"Source `{args.source}`; target `{args.target}` with N images drawn per seed; {args.steps} steps of "
             f"batch {args.batch_size} per run; Freeze-D freezes D's first {args.freeze_d} blocks; FID and KID "
             f"of {args.n_fake} samples against all {len(reference)} target images, on `{args.extractor}` "
             f"features; seeds {args.seeds}; mean +- std over seeds. Precision / recall: k-NN manifolds (k=3) "
             f"on the same features. Memorisation: mean RMS pixel distance from each sample to its nearest "
             f"training image, divided by the same for up to 500 real target images not trained on (well "
             f"below 1: the samples copy the training set; n/a when every image is trained on). Steps to "
             f"scratch's best FID: the first evaluation at which the arm's mean FID is at or below the best "
             f"mean FID scratch reached (time-to-quality).", "",
             *summarize(runs, methods, sizes), "", "![FID against steps](transfer_study.png)", ""]
    with open(os.path.join(args.out, "transfer_study.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
