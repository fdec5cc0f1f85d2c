"""Few-shot transfer versus scratch on real data: FID against steps and against N, per method, source and target.

    python tools/transfer_study.py --tune --out docs           # make study: about eight hours on 2 CPU cores
    python tools/transfer_study.py --plan grid --targets close --sizes 10 --seeds_small 0 --steps 200 --out /tmp/s

Targets (``--targets``, presets of source checkpoint and target data):

- ``close``: `dcgan_fashion_base` (Fashion-MNIST's 8 base classes) -> Fashion-MNIST 3,9 (dress, ankle boot);
- ``colour``: `dcgan_mnist` (gray digits) -> MNIST-M (the same digits over colour photo patches);
- ``far``: `dcgan_mnist` -> Fashion-MNIST 3,9, to show where transfer stops helping;
- ``correspondence``: `dcgan_fashion_base` -> the same 8 classes as line drawings (``fashion_sketch``), the
  published benchmarks' kind of target (faces -> sketches): the same content in a new appearance.

Every arm is measured on the target domain's evaluator and, where the domain has one, on its second,
independently trained evaluator (`metrics.SECOND_EXTRACTORS`, a VAE's encoder): a verdict that flips between
the two is reported as such.

With ``--tune``, each method's hyperparameters are first chosen per target on held-out KID from the train split
(`keras_transfer_gan.study.tuning`; one draw of ``--tune_n`` images, seed ``--tune_seed``).

For each cell of the plan (``--plan trimmed``: the cells of ``TRIMMED``; ``--plan grid``: each
target, each N in ``--sizes`` and each seed, ``--seeds_small`` where N <= 25 and ``--seeds`` above),
a few-shot subset of N images is drawn from the target's train split with up to ``--held_out`` other train
images kept aside; every method in ``--methods`` (see `keras_transfer_gan.study.arms`; the fewer ``--methods_large``
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

This is a preset over `keras_transfer_gan.study` (``ktg study`` runs the same harness on one source and any
data): the targets, the trimmed plan and the page's wording are what it adds.
"""

import argparse
import dataclasses
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keras_transfer_gan.study import METHODS, StudySettings, StudyTarget, method_label, run_cells, write_study  # noqa: E402,E501
from keras_transfer_gan.study.report import BASELINE  # noqa: E402
from keras_transfer_gan.study.budget import cached_step_cost_ratio, equal_time_schedule, step_cost_ratio  # noqa: E402,E501
from keras_transfer_gan.study.tuning import tune  # noqa: E402

TARGETS = {
    "close": ("dcgan_fashion_base", "fashion_mnist:3,9", 1),
    "colour": ("dcgan_mnist", "mnist_m", 3),
    "far": ("dcgan_mnist", "fashion_mnist:3,9", 1),
    "correspondence": ("dcgan_fashion_base", "fashion_sketch:0,1,2,4,5,6,7,8", 1),
    # Other architectures on the close target, at the DCGAN arms' training time (`study.budget`): run with
    # --targets close_style,close_diffusion once their zoo sources are trained (`make zoo`).
    "close_style": ("stylegan2_fashion_base", "fashion_mnist:3,9", 1, "dcgan_fashion_base"),
    "close_diffusion": ("ddim_fashion_base", "fashion_mnist:3,9", 1, "dcgan_fashion_base"),
}
#: Arms run at N > 25 and on the far target (the study's trim: the baseline, the standard transfer, CDC).
LARGE_METHODS = "scratch+diffaugment,trgan+freeze_d+diffaugment,trgan+freeze_d+diffaugment+cdc"
_MAIN = ("scratch+diffaugment", "trgan+freeze_d+diffaugment", "trgan+freeze_d+diffaugment+ewc",
         "trgan+freeze_d+diffaugment+cdc")
_ALL = _MAIN + ("trgan+scale_shift+diffaugment", "trgan+freeze_d+ada")
_SEEDS = (0, 1, 2, 3, 4)
_STYLE = ("scratch+diffaugment", "trgan+freeze_d+diffaugment", "trgan+freeze_d+diffaugment+cdc",
          "trgan+freeze_d+diffaugment+ewc", "trgan+freeze_d+diffaugment+freeze_g",
          "trgan+scale_shift+adafm+diffaugment", "trgan+diffaugment+latent_adaptor")
#: The diffusion arms #26 asks for (the adaptors, `diffusion+adapters`, run by `--plan grid` or `--methods`).
_DIFFUSION = ("scratch", "diffusion", "diffusion+lora", "diffusion+lora+pairwise")
#: Evaluations per run where not the reference's (6): one evaluation of a diffusion arm (756 samples of 25 DDIM
#: steps: ~100 s on 2 cores) costs more than its whole training budget, so its runs are measured 3 times (and at
#: step 0), a coarser grid for the best-checkpoint selection than the GANs' (named in the page's header).
EVALUATIONS = {"close_diffusion": 3}
#: ``--plan trimmed`` (the default; about eight hours on 2 cores with --tune, four of them the diffusion cells; run it
#: target by target with ``--targets`` and join the pages with ``--merge``): (target, N, seeds, methods) cells.
TRIMMED = (
    ("close", 10, _SEEDS, _ALL),
    ("close", 25, _SEEDS, _ALL),
    ("close", 100, (0,), _MAIN[:2]),
    ("colour", 10, (0,), _MAIN),
    ("colour", 25, (0,), _MAIN),
    ("far", 25, (0,), _MAIN[:2]),
    ("correspondence", 10, (0,), _MAIN),
    ("correspondence", 25, (0,), _MAIN),
    ("close_style", 10, (0, 1, 2), _STYLE),
    ("close_style", 25, (0, 1, 2), _STYLE),
    ("close_diffusion", 10, (0, 1, 2), _DIFFUSION),
    ("close_diffusion", 25, (0, 1, 2), _DIFFUSION),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default="trimmed", choices=("trimmed", "grid"),
                        help="trimmed: the cells of TRIMMED; grid: every target x size x seed x method")
    parser.add_argument("--cache_dir", default=None, help="finished runs, reused by a rerun with the same settings "
                        "(default: OUT/.study_runs)")
    parser.add_argument("--targets", default="close,colour,far,correspondence", help=f"comma list of {', '.join(TARGETS)}")
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
    parser.add_argument("--second_extractor", default="auto", help="auto: the target domain's second evaluator "
                        "(metrics.SECOND_EXTRACTORS); none: off")
    parser.add_argument("--tune", action="store_true", help="choose each method's hyperparameters first "
                        "(keras_transfer_gan.study.tuning: sweeps on held-out KID from the train split, one draw per "
                        "target and N of seed --tune_seed)")
    parser.add_argument("--tune_seed", type=int, default=100, help="--tune: the seed of the tuning draws (not one "
                        "of the study's)")
    parser.add_argument("--tune_n", type=int, default=10, help="--tune: the few-shot size of the tuning draw (its "
                        "choices are used at every N)")
    parser.add_argument("--merge", default="", help="comma list of study JSON files written by this tool (e.g. the "
                        "published docs/transfer_study.json) whose runs, floors and tunings join this page as they "
                        "are, not rerun: studies run apart (another commit, another session) on one page")
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


def equal_time_settings(settings, source_name, reference_name, cache_dir, evaluations=None):
    """`settings` with the steps (and evaluation interval) of `source_name` that cost the training time of
    `settings.steps` steps of `reference_name` (`study.budget`; the ratio measured once and cached), evaluated
    `evaluations` times (default: as often as the reference); ``(settings, {"reference", "ratio", "steps",
    "eval_every"})``."""
    from keras_transfer_gan import load_pretrained, zoo
    from keras_transfer_gan.training.precision import cpu_features

    source, reference = load_pretrained(source_name), load_pretrained(reference_name)
    key = {"source": zoo.sha256_of(zoo.zoo_path(source_name)), "reference": zoo.sha256_of(zoo.zoo_path(reference_name)),
           "batch": settings.batch_size, "machine": f"{cpu_features()}, {os.cpu_count()} cores"}
    ratio, machine = cached_step_cost_ratio(cache_dir, key,
                                            lambda: step_cost_ratio(reference, source, settings.batch_size))
    steps, every = equal_time_schedule(settings.steps, settings.eval_every, ratio, evaluations)
    return (dataclasses.replace(settings, steps=steps, eval_every=every),
            {"reference": reference_name, "ratio": round(ratio, 3), "steps": steps, "eval_every": every,
             "measured_on": machine})


def _trim_note(args):
    if args.plan != "trimmed":
        return (f"Full grid: seeds {args.seeds_small} where N <= 25, {args.seeds} above; at N > 25, and on the far "
                f"target (N in {args.far_sizes} only), the arms are {args.methods_large}.")
    targets = [t.strip() for t in args.targets.split(",")]
    cells = "; ".join(f"{t} N={n} seeds {','.join(map(str, s))}: {', '.join(method_label(m) for m in ms)}"
                      for t, n, s, ms in TRIMMED if t in targets)
    return ("Trimmed (`--plan grid` runs every method at N in 10, 25, 100, 1000 with "
            f"3 seeds at N <= 25): {cells}. N = 1000 is not run.")


def read_merged(paths, targets):
    """The studies of `--merge` (comma list of this tool's JSON files), each with its ``path`` and ``targets``; a
    target in two of them, or also run now, is an error: one page has one set of runs per target."""
    studies, seen = [], {t: "--targets" for t in targets}
    for path in (p.strip() for p in paths.split(",") if p.strip()):
        try:
            with open(path) as f:
                study = json.load(f)
            study_targets = list(dict.fromkeys(r["target"] for r in study["runs"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            sys.exit(f"transfer_study: --merge {path}: not a study JSON written by this tool ({error})")
        for target in study_targets:
            if target in seen:
                sys.exit(f"transfer_study: --merge {path}: target {target!r} is also in {seen[target]}")
            seen[target] = path
        studies.append(dict(study, path=path, targets=study_targets))
    return studies


def merged_header(studies, command):
    """The header lines of a page joining `studies` (read by `read_merged`): how it was joined, then each study's
    own description (its command, settings and budget), under the targets it ran."""
    lines = [f"Joined by `{command.strip()}`: the runs of each study below are read from its JSON as they were "
             "measured (not rerun), with its own command and settings.", ""]
    for study in studies:
        lines += [f"**{', '.join(study['targets'])}** (from `{os.path.basename(study['path'])}`, "
                  f"{study.get('machine', 'machine not recorded')}):", ""]
        lines += [line for line in study["header"] if not line.startswith("# ")] + [""]
    return lines


def main(argv=None):
    args = parse_args(argv)
    every = f"{args.methods},{args.methods_large}".split(",")
    methods = list(dict.fromkeys(m.strip() for m in every if m.strip()))
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        sys.exit(f"transfer_study: unknown target {unknown[0]!r} (choose from {', '.join(TARGETS)})")
    merged = read_merged(args.merge, targets)
    if not targets and not merged:
        sys.exit("transfer_study: no --targets to run and nothing to --merge")
    plan = [cell for cell in _plan(args) if cell[0] in targets]
    sizes = sorted({n for _, n, _, _ in plan})
    methods = list(dict.fromkeys([m for _, _, _, ms in plan for m in ms] + methods))
    settings = StudySettings(steps=args.steps, eval_every=args.eval_every, batch_size=args.batch_size,
                             freeze_d=args.freeze_d, n_fake=args.n_fake, held_out=args.held_out,
                             extractor=args.extractor, second_extractor=args.second_extractor)
    settings.check()
    runs, floors, tunings, cached_runs, start = [], [], [], 0, time.perf_counter()
    budgets = {}
    cache_dir = args.cache_dir or os.path.join(args.out, ".study_runs")
    for name in dict.fromkeys(cell[0] for cell in plan):
        source_name, spec, channels, *reference = TARGETS[name]
        target_settings = settings
        if reference:  # another architecture: the reference's training time, in this architecture's steps
            target_settings, budgets[name] = equal_time_settings(settings, args.source or source_name, reference[0],
                                                                 cache_dir, EVALUATIONS.get(name))
        target = StudyTarget(name, args.source or source_name, args.target or spec, target_settings, channels)
        cells = [(n, seeds, arms) for t, n, seeds, arms in plan if t == name]
        tuned = {}
        if args.tune:  # one sweep per target, at --tune_n, its choices used at every N
            arms = list(dict.fromkeys(m for _, _, ms in cells for m in ms))
            tuning = tune(target, args.tune_n, args.tune_seed, arms, cache_dir)
            tunings.append(tuning)
            tuned = {(n, method): values for n, _, _ in cells for method, values in tuning["choices"].items()}
        more_runs, more_floors, cached = run_cells(target, cells, cache_dir, tuned=tuned)
        runs, floors, cached_runs = runs + more_runs, floors + more_floors, cached_runs + cached
    total = time.perf_counter() - start
    command = "python tools/transfer_study.py " + " ".join(argv if argv is not None else sys.argv[1:])
    title = "# Few-shot transfer study: real data, best checkpoint, against N"
    header = [title, ""] + (merged_header(merged, command) if merged else []) + ([
             f"Command: `{command.strip()}` ({total / 60:.1f} minutes on {os.cpu_count()} CPU cores, "
             f"{platform.machine()}" + (f"; {cached_runs} of {len(runs)} runs read from the cache of an earlier "
                                        "invocation with the same settings, whose training steps alone took "
                                        f"{sum(r['train_seconds'] for r in runs) / 60:.1f} minutes"
                                        if cached_runs else "") + ").", "",
             "Targets: " + "; ".join(f"`{t}` = `{args.source or TARGETS[t][0]}` -> `{args.target or TARGETS[t][1]}`"
                                     for t in targets) + ". "
             + "".join(f"`{t}` trains at `{b['reference']}`'s training time: one of its steps costs {b['ratio']:.2f} "
                       f"of the reference's (measured "
                       + (f"on {b['measured_on']}, where this study started" if b.get("measured_on") else "here")
                       + f"), so {b['steps']} steps, measured every {b['eval_every']}"
                       + (f" ({EVALUATIONS[t]} evaluations, not the reference's {args.steps // args.eval_every}: one "
                          "costs more than the training)" if t in EVALUATIONS else "") + ". "
                       for t, b in budgets.items())
             + f"{args.steps} steps of batch {args.batch_size} per run (of N where N is smaller: every image in "
             f"each batch); Freeze-D freezes D's first {args.freeze_d} blocks"
             + (" where not tuned (the tuned depths are listed below)" if args.tune else "")
             + f"; every {args.eval_every} steps, {args.n_fake} samples are measured against the target's whole "
             "test split on the target domain's evaluator (FID, KID, precision/recall with k = 3) and KID against "
             f"up to {args.held_out} held-out train images outside the few-shot subset. **FID (selected)** is the "
             "test FID at the step with the lowest held-out KID (best-checkpoint selection that never sees the "
             "test split); **oracle best FID** is the lowest test FID on the curve (what selection could reach). "
             "Memorisation: mean RMS pixel distance of samples to their nearest training image over the same for "
             "held-out real images (below 1: copying). Steps to the baseline's best: the first evaluation at which "
             f"the arm reaches {method_label(BASELINE)}'s best test FID of the same draw. Mean +- std over seeds "
             "(one seed: no std). **FID, 2nd evaluator**: the same samples on the domain's second, independently "
             "trained evaluator (a VAE's encoder); the target must hold under both. **FID (selected on N held-out)**: "
             "the checkpoint chosen by KID against only N held-out images, what a user with N images could set "
             "aside. " + (f"Hyperparameters: chosen per target on one draw of {args.tune_n} images (seed "
                          f"{args.tune_seed}) by held-out KID, never the test split (section below). " if args.tune
                          else "Hyperparameters: the defaults (not tuned). ") + _trim_note(args)] if targets else [])
    for study in merged:
        runs, floors, tunings = runs + study["runs"], floors + study["floors"], tunings + study["tunings"]
        methods = list(dict.fromkeys(methods + [r["method"] for r in study["runs"]]))
        targets = targets + [t for t in study["targets"] if t not in targets]
    _, lines = write_study(args.out, runs, floors, methods, header, name="transfer_study",
                           targets=[t for t in ("close", "colour", "correspondence", "close_style", "close_diffusion")
                                    if t in targets], tunings=tunings)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
