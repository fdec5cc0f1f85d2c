"""Few-shot transfer versus scratch on real data: FID against steps and against N, per method, source and target.

    python tools/transfer_study.py --out docs                  # make study: about an hour on 2 CPU cores
    python tools/transfer_study.py --plan grid --targets close --sizes 10 --seeds_small 0 --steps 200 --out /tmp/s

Targets (``--targets``, presets of source checkpoint and target data):

- ``close``: `dcgan_fashion_base` (Fashion-MNIST's 8 base classes) -> Fashion-MNIST 3,9 (dress, ankle boot);
- ``colour``: `dcgan_mnist` (gray digits) -> MNIST-M (the same digits over colour photo patches);
- ``far``: `dcgan_mnist` -> Fashion-MNIST 3,9, to show where transfer stops helping.

For each cell of the plan (``--plan trimmed``: the cells of ``TRIMMED``, about an hour; ``--plan grid``: each
target, each N in ``--sizes`` and each seed, ``--seeds_small`` where N <= 25 and ``--seeds`` above),
a few-shot subset of N images is drawn from the target's train split with up to ``--held_out`` other train
images kept aside; every method in ``--methods`` (see `study_arms.py`; the fewer ``--methods_large``
where N > 25 and on the far target) trains for ``--steps`` steps of batch ``--batch_size`` and is measured
every ``--eval_every`` steps against the target's *test* split (never trained on, never used for
selection) on the target domain's evaluator (`extractor_for`): FID, KID, precision/recall of ``--n_fake``
samples, and memorisation. The checkpoint reported is the one with the lowest KID against the held-out
train images (best-checkpoint selection); the oracle best (lowest test FID on the curve) is reported beside
it. Two floors per draw: the N training images repeated (what a copier scores) and as many held-out real
images as samples.

Writes ``transfer_study.md`` (tables and the verdict against the target), ``transfer_study.png`` (best FID
against N per method: where the curves cross is the finding), ``transfer_study_curves.png`` (FID against
steps) and ``transfer_study.json`` (every curve) to --out.
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # study_arms

import numpy as np  # noqa: E402

from keras_transfer_gan.data import few_shot_split, load_images  # noqa: E402
from keras_transfer_gan.metrics import evaluate_samples, extractor_for, get_extractor  # noqa: E402
from keras_transfer_gan.transfer import load_pretrained  # noqa: E402
from study_arms import (  # noqa: E402
    METHODS,
    copier_floor,
    method_label,
    run_arm,
)

TARGETS = {
    "close": ("dcgan_fashion_base", "fashion_mnist:3,9", 1),
    "colour": ("dcgan_mnist", "mnist_m", 3),
    "far": ("dcgan_mnist", "fashion_mnist:3,9", 1),
}
BASELINE = "scratch+diffaugment"
#: Arms run at N > 25 and on the far target (the study's trim: the baseline, the standard transfer, CDC).
LARGE_METHODS = "scratch+diffaugment,trgan+freeze_d+diffaugment,trgan+freeze_d+diffaugment+cdc"
_MAIN = ("scratch+diffaugment", "trgan+freeze_d+diffaugment", "trgan+freeze_d+diffaugment+ewc",
         "trgan+freeze_d+diffaugment+cdc")
#: ``--plan trimmed`` (the default, about an hour on 2 cores): (target, N, seeds, methods) cells.
TRIMMED = (
    ("close", 10, (0, 1, 2), _MAIN),
    ("close", 25, (0, 1, 2), _MAIN),
    ("close", 25, (0,), ("scratch", "trgan+scale_shift+diffaugment")),
    ("close", 100, (0,), _MAIN[:2]),
    ("colour", 10, (0,), _MAIN[:3]),
    ("colour", 25, (0,), _MAIN[:3]),
    ("far", 25, (0,), _MAIN[:2]),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default="trimmed", choices=("trimmed", "grid"),
                        help="trimmed: the cells of TRIMMED (about an hour); grid: every target x size x seed x method")
    parser.add_argument("--cache_dir", default=None, help="finished runs, reused by a rerun with the same settings "
                        "(default: OUT/.study_runs)")
    parser.add_argument("--targets", default="close,colour,far", help=f"comma list of {', '.join(TARGETS)}")
    parser.add_argument("--source", default=None, help="override the preset source (zoo name or model file)")
    parser.add_argument("--target", default=None, help="override the preset target dataset spec")
    parser.add_argument("--sizes", default="10,25,100,1000", help="few-shot sizes N (comma list)")
    parser.add_argument("--methods", default=",".join(METHODS), help="arms where N <= 25")
    parser.add_argument("--methods_large", default=LARGE_METHODS, help="arms where N > 25, and for --far_targets")
    parser.add_argument("--far_targets", default="far", help="targets that run --methods_large at every N and only "
                        "--far_sizes")
    parser.add_argument("--far_sizes", default="10,25,100")
    parser.add_argument("--seeds_small", default="0,1,2", help="seeds where N <= 25")
    parser.add_argument("--seeds", default="0,1", help="seeds where N > 25")
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument("--eval_every", type=int, default=400)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--freeze_d", type=int, default=2)
    parser.add_argument("--n_fake", type=int, default=500)
    parser.add_argument("--held_out", type=int, default=500)
    parser.add_argument("--extractor", default="auto", help="auto: the target domain's zoo evaluator")
    parser.add_argument("--out", default="docs")
    return parser.parse_args(argv)


def _plan(args):
    """``[(target, n, seeds, methods)]``: the trimmed plan of ``--plan trimmed``, or the full grid."""
    targets = [t.strip() for t in args.targets.split(",")]
    if args.plan == "trimmed":
        return [cell for cell in TRIMMED if cell[0] in targets]
    sizes = [int(s) for s in args.sizes.split(",")]
    small, large = args.methods.split(","), args.methods_large.split(",")
    cells = []
    for target in targets:
        far = target in args.far_targets.split(",")
        chosen = [int(s) for s in args.far_sizes.split(",")] if far else sizes
        for n in sizes:
            if n in chosen:
                seeds = [int(s) for s in (args.seeds_small if n <= 25 else args.seeds).split(",")]
                cells.append((target, n, seeds, large if far or n > 25 else small))
    return cells


def _trim_note(args):
    if args.plan != "trimmed":
        return (f"Full grid: seeds {args.seeds_small} where N <= 25, {args.seeds} above; at N > 25, and on the far "
                f"target (N in {args.far_sizes} only), the arms are {args.methods_large}.")
    cells = "; ".join(f"{t} N={n} seeds {','.join(map(str, s))}: {', '.join(method_label(m) for m in ms)}"
                      for t, n, s, ms in TRIMMED)
    return ("Trimmed to fit about an hour on 2 cores (`--plan grid` runs every method at N in 10, 25, 100, 1000 with "
            f"3 seeds at N <= 25): {cells}. N = 1000 is not run.")


def _cache_path(args, target, n, seed, method):
    return os.path.join(args.cache_dir or os.path.join(args.out, ".study_runs"), f"{target}-n{n}-s{seed}-{method}.json")


def _signature(args, source_name, spec):
    return {"source": source_name, "dataset": spec, "steps": args.steps, "eval_every": args.eval_every,
            "batch_size": args.batch_size, "freeze_d": args.freeze_d, "n_fake": args.n_fake,
            "held_out": args.held_out, "extractor": args.extractor}


def _cached_run(path, signature):
    """A finished run of an earlier, interrupted study with the same settings, or None."""
    try:
        with open(path) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return None
    return saved["run"] if saved.get("signature") == signature else None


def _save_run(path, signature, run):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump({"signature": signature, "run": run}, f)
    os.replace(path + ".tmp", path)


def _at(curve, step):
    return next(p for p in curve if p["step"] == step)


def arm_summary(run, baseline_best=None):
    """The figures of one run: selected point, oracle best, time-to-quality, memorisation."""
    curve = run["curve"]
    selected = _at(curve, run["selected_step"]) if run.get("selected_step") is not None else curve[-1]
    best = min(curve, key=lambda p: p["fid"])
    reach = None
    if baseline_best is not None:
        reach = next((p["step"] for p in curve if p["fid"] <= baseline_best), None)
    memo = selected["nn_train"] / run["nn_real"] if run.get("nn_real") else None
    return {"fid": selected["fid"], "kid": selected["kid"], "precision": selected["precision"],
            "recall": selected["recall"], "step": selected["step"], "memorisation": memo,
            "oracle_fid": best["fid"], "oracle_step": best["step"], "last_fid": curve[-1]["fid"],
            "reach": reach, "seconds": run["train_seconds"]}


def _mean(values):
    values = [v for v in values if v is not None]
    return (float(np.mean(values)), float(np.std(values))) if values else (None, None)


def summarize(runs, floors, methods, sizes):
    """Per target and N: mean +- std over seeds of each method's selected FID etc.; returns (rows, table)."""
    rows = []
    for target in dict.fromkeys(r["target"] for r in runs):
        for n in sizes:
            draws = [r for r in runs if r["target"] == target and r["n"] == n]
            if not draws:
                continue
            baseline = {r["seed"]: min(p["fid"] for p in r["curve"]) for r in draws if r["method"] == BASELINE}
            for method in methods:
                arm = [r for r in draws if r["method"] == method]
                if not arm:
                    continue
                summaries = [arm_summary(r, baseline.get(r["seed"])) for r in arm]
                row = {"target": target, "n": n, "method": method, "seeds": len(arm)}
                for key in ("fid", "kid", "precision", "recall", "memorisation", "oracle_fid", "last_fid", "seconds",
                            "step"):
                    row[key], row[key + "_std"] = _mean([s[key] for s in summaries])
                reached = [s["reach"] for s in summaries]
                row["reach"] = None if any(r is None for r in reached) else float(np.mean(reached))
                row["reached"] = sum(r is not None for r in reached)
                rows.append(row)
            f = [fl for fl in floors if fl["target"] == target and fl["n"] == n]
            rows.append({"target": target, "n": n, "method": "floor", "copier": _mean([x["copier_fid"] for x in f]),
                         "real": _mean([x["real_fid"] for x in f]), "copier_recall": _mean([x["copier_recall"]
                                                                                             for x in f])})
    return rows


def _fmt(mean, std=None, digits=2):
    if mean is None:
        return "n/a"
    return f"{mean:.{digits}f}" + (f" +- {std:.{digits}f}" if std is not None else "")


def table(rows, steps):
    lines = ["| target | N | method | FID (selected) | oracle best FID | KID | precision / recall | memorisation | "
             f"selected step | steps to {method_label(BASELINE)}'s best | training s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["method"] == "floor":
            lines.append(f"| {r['target']} | {r['n']} | *floors*: copier (the N images repeated) / held-out real | "
                         f"{_fmt(*r['copier'])} / {_fmt(*r['real'])} | | | recall of the copier "
                         f"{_fmt(r['copier_recall'][0])} | | | | |")
            continue
        reach = (f"{r['reach']:.0f}" if r["reach"] is not None else f"not reached ({r['reached']}/{r['seeds']} seeds)")
        lines.append(
            f"| {r['target']} | {r['n']} | {method_label(r['method'])} | {_fmt(r['fid'], r['fid_std'])} | "
            f"{_fmt(r['oracle_fid'], r['oracle_fid_std'])} | {_fmt(r['kid'], None, 3)} | "
            f"{_fmt(r['precision'])} / {_fmt(r['recall'])} | {_fmt(r['memorisation'])} | {_fmt(r['step'], None, 0)} | "
            f"{reach} | {_fmt(r['seconds'], None, 0)} |")
    return lines


def verdict(rows, steps, targets=("close", "colour"), sizes=(10, 25)):
    """The issue's target: best transfer method >= 30% below scratch + DiffAugment, with higher recall, a
    memorisation ratio >= 0.9, in at most a quarter of scratch's steps."""
    lines = ["| target | N | best transfer method | its FID / scratch + DiffAugment's | FID gain | recall (vs baseline) "
             "| memorisation | steps (vs baseline's selected) | target met |", "|---|---|---|---|---|---|---|---|---|"]
    for target in targets:
        for n in sizes:
            arms = [r for r in rows if r["target"] == target and r["n"] == n and r["method"] != "floor"]
            base = next((r for r in arms if r["method"] == BASELINE), None)
            transfer = [r for r in arms if r["method"].startswith("trgan")]
            if base is None or not transfer:
                continue
            best = min(transfer, key=lambda r: r["fid"])
            gain = 1.0 - best["fid"] / base["fid"]
            quick = best["step"] <= 0.25 * max(base["step"], 1)
            # Selected at step 0 means the untouched source: fine-tuning made it worse, so no method met it.
            tuned = best["step"] > 0
            met = (gain >= 0.30 and best["recall"] > base["recall"] and (best["memorisation"] or 0) >= 0.9 and quick
                   and tuned)
            lines.append(f"| {target} | {n} | {method_label(best['method'])} | {best['fid']:.2f} / {base['fid']:.2f} | "
                         f"{100 * gain:.0f}% | {best['recall']:.2f} ({base['recall']:.2f}) | "
                         f"{_fmt(best['memorisation'])} | {best['step']:.0f} ({base['step']:.0f}) | "
                         f"{'yes' if met else ('no: the source untouched (step 0) scores best' if not tuned else 'no')} |")
    return lines


def _figure_legend(fig, axes, row_height):
    """One legend below the panels for every method any panel draws."""
    handles = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    rows = 1 + (len(handles) - 1) // 4
    fig.legend(list(handles.values()), list(handles), fontsize=7, loc="lower center", ncol=min(4, len(handles)),
               frameon=False)
    fig.tight_layout(rect=(0, row_height * rows, 1, 1))


def plot_against_n(rows, methods, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = list(dict.fromkeys(r["target"] for r in rows))
    fig, axes = plt.subplots(1, len(targets), figsize=(4.8 * len(targets), 3.8), squeeze=False)
    for ax, target in zip(axes[0], targets):
        for method in methods:
            points = sorted((r["n"], r["fid"], r["fid_std"]) for r in rows
                            if r["target"] == target and r["method"] == method)
            if points:
                n, fid, std = (np.array(v, float) for v in zip(*points))
                ax.errorbar(n, fid, yerr=std, marker="o", ms=3, capsize=2, label=method_label(method))
        floors = sorted((r["n"], r["real"][0]) for r in rows if r["target"] == target and r["method"] == "floor")
        if floors:
            ax.plot(*zip(*floors), "k:", label="held-out real images (floor)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N target images")
        ax.set_title(f"{target}: FID at the selected step")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("FID (target evaluator, test split)")
    _figure_legend(fig, axes.flat, 0.06)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(runs, methods, sizes, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = list(dict.fromkeys(r["target"] for r in runs))
    fig, axes = plt.subplots(len(targets), len(sizes), figsize=(3.8 * len(sizes), 3.0 * len(targets)),
                             squeeze=False, sharex=True)
    for i, target in enumerate(targets):
        for j, n in enumerate(sizes):
            ax = axes[i][j]
            for method in methods:
                arm = [r for r in runs if r["target"] == target and r["n"] == n and r["method"] == method]
                if not arm:
                    continue
                steps = [p["step"] for p in arm[0]["curve"]]
                curves = np.array([[p["fid"] for p in r["curve"]] for r in arm])
                ax.plot(steps, curves.mean(0), marker="o", ms=2, label=method_label(method))
            ax.set_yscale("log")
            ax.set_title(f"{target}, N = {n}", fontsize=9)
            ax.grid(alpha=0.3)
    axes[-1][0].set_xlabel("training steps")
    axes[0][0].set_ylabel("FID")
    _figure_legend(fig, axes.flat, 0.04)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    every = f"{args.methods},{args.methods_large}".split(",")
    methods = list(dict.fromkeys(m.strip() for m in every if m.strip()))
    targets = [t.strip() for t in args.targets.split(",")]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        sys.exit(f"transfer_study: unknown target {unknown[0]!r} (choose from {', '.join(TARGETS)})")
    plan = [cell for cell in _plan(args) if cell[0] in targets]
    sizes = sorted({n for _, n, _, _ in plan})
    methods = list(dict.fromkeys([m for _, _, _, ms in plan for m in ms] + methods))
    runs, floors, start, cached_runs = [], [], time.perf_counter(), 0
    for target in dict.fromkeys(cell[0] for cell in plan):
        source_name, spec, channels = TARGETS[target]
        source_name, spec = args.source or source_name, args.target or spec
        signature = _signature(args, source_name, spec)
        source = load_pretrained(source_name)
        extractor = get_extractor(extractor_for(spec) if args.extractor == "auto" else args.extractor)
        reference, _ = load_images(spec, image_size=source.image_size, channels=channels, split="test")
        key = f"{spec}-test-{source.image_size}x{channels}"
        for _, n, seeds, arms in (cell for cell in plan if cell[0] == target):
            for seed in seeds:
                images, held_out = few_shot_split(spec, n, args.held_out, source.image_size, channels, seed)
                if not any(f["target"] == target and f["n"] == n and f["seed"] == seed for f in floors):
                    copier = copier_floor(images, reference, extractor, args.n_fake, key, seed)
                    real = evaluate_samples(reference, held_out[:args.n_fake], extractor, ("fid", "pr"),
                                            reference_key=key)
                    floors.append({"target": target, "n": n, "seed": seed, "copier_fid": copier["fid"],
                                   "copier_recall": copier["recall"], "real_fid": real["fid"],
                                   "real_n": int(min(len(held_out), args.n_fake))})
                for method in arms:
                    path = _cache_path(args, target, n, seed, method)
                    run = _cached_run(path, signature)
                    cached = run is not None
                    cached_runs += cached
                    if not cached:
                        run = run_arm(method, source, images, args.steps, args.eval_every, reference, extractor,
                                      batch_size=args.batch_size, seed=seed, n_fake=args.n_fake,
                                      freeze_d=args.freeze_d, reference_key=key, held_out=held_out)
                        run.pop("model"), run.pop("report")
                        run.update(target=target, n=n, source=source_name, dataset=spec)
                        _save_run(path, signature, run)
                    runs.append(run)
                    s = arm_summary(run)
                    print(f"{target:<6} N={n:<4} seed={seed} {method:<34} FID {run['curve'][0]['fid']:7.2f} -> "
                          f"selected {s['fid']:7.2f} (step {s['step']}), oracle {s['oracle_fid']:7.2f}  "
                          f"[{run['train_seconds']:.0f} s{', cached' if cached else ''}; "
                          f"{time.perf_counter() - start:.0f} s so far]", flush=True)
    total = time.perf_counter() - start
    rows = summarize(runs, floors, methods, sizes)
    os.makedirs(args.out, exist_ok=True)
    command = "python tools/transfer_study.py " + " ".join(argv if argv is not None else sys.argv[1:])
    with open(os.path.join(args.out, "transfer_study.json"), "w") as f:
        json.dump({"settings": vars(args), "command": command.strip(), "seconds": round(total, 1),
                   "cached_runs": cached_runs,
                   "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}", "rows": rows, "floors": floors,
                   "runs": runs}, f, indent=1)
    plot_against_n([r for r in rows if r["method"] != "floor"] + [r for r in rows if r["method"] == "floor"],
                   methods, os.path.join(args.out, "transfer_study.png"))
    plot_curves(runs, methods, sizes, os.path.join(args.out, "transfer_study_curves.png"))
    lines = ["# Few-shot transfer study: real data, best checkpoint, against N", "",
             f"Command: `{command.strip()}` ({total / 60:.1f} minutes on {os.cpu_count()} CPU cores, "
             f"{platform.machine()}" + (f"; {cached_runs} of {len(runs)} runs read from the cache of an earlier "
                                        "invocation with the same settings, whose training steps alone took "
                                        f"{sum(r['train_seconds'] for r in runs) / 60:.1f} minutes"
                                        if cached_runs else "") + ").", "",
             "Targets: " + "; ".join(f"`{t}` = `{args.source or TARGETS[t][0]}` -> `{args.target or TARGETS[t][1]}`"
                                     for t in targets) + ". "
             f"{args.steps} steps of batch {args.batch_size} per run; Freeze-D freezes D's first {args.freeze_d} "
             f"blocks; every {args.eval_every} steps, {args.n_fake} samples are measured against the target's whole "
             "test split on the target domain's evaluator (FID, KID, precision/recall with k = 3) and KID against "
             f"up to {args.held_out} held-out train images outside the few-shot subset. **FID (selected)** is the "
             "test FID at the step with the lowest held-out KID (best-checkpoint selection that never sees the "
             "test split); **oracle best FID** is the lowest test FID on the curve (what selection could reach). "
             "Memorisation: mean RMS pixel distance of samples to their nearest training image over the same for "
             "held-out real images (below 1: copying). Steps to the baseline's best: the first evaluation at which "
             f"the arm reaches {method_label(BASELINE)}'s best test FID of the same draw. Mean +- std over seeds "
             "(one seed: no std). " + _trim_note(args), "",
             "## Against the target", "", *verdict(rows, args.steps), "",
             "## Every arm", "", *table(rows, args.steps), "",
             "![best FID against N](transfer_study.png)", "", "![FID against steps](transfer_study_curves.png)", ""]
    with open(os.path.join(args.out, "transfer_study.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
