"""`run_study`: does transfer help on *this* data? Transfer arms against scratch + DiffAugment, on any data spec.

Example:
>>> from keras_transfer_gan.study import run_study
>>> run_study("dcgan_fashion_base", "my_images/", "study_out", sizes=(10, 25), reference=200, steps=400)

For each few-shot size N and seed, N images are drawn from the data's train split with up to `held_out`
others kept aside (best-checkpoint selection and memorisation, never trained on); each arm (`METHODS`; see
`study.arms`) trains for `steps` steps and is measured every `eval_every` steps against the reference: the
test split (``reference="test"``), or, for data without one (a folder of images), K more train images
outside both (``reference=K``), drawn per N and seed. Finished runs are kept under ``out/.study_runs`` and
reused by a rerun whose key is unchanged (`RunCache`: settings, source checkpoint, draw, evaluator weights and
the training code), so an interrupted study resumes and nothing stale is read. Writes ``study.md`` (the verdict
and the table), ``study.json`` (every curve), ``study.png`` (FID against N) and ``study_curves.png``.
"""

import json
import os
import platform
import time

from keras_transfer_gan.metrics import evaluate_samples
from keras_transfer_gan.study.arms import (DEFAULT_WEIGHTS, DIFFUSION_METHODS, METHODS, SCRATCH, copier_floor,
                                           method_label, parse_method, run_arm)
from keras_transfer_gan.study.report import (BASELINE, across_architectures, arm_summary_line, plot_against_n,
                                             plot_curves, summarize, table, verdict)
from keras_transfer_gan.study.run_cache import RunCache, code_digest
from keras_transfer_gan.study.settings import StudySettings
from keras_transfer_gan.study.target import StudyTarget
from keras_transfer_gan.study.tuning import choices_table
from keras_transfer_gan.utils.atomic import write_text
from keras_transfer_gan.utils.digest import array_digest
from keras_transfer_gan.utils.checks import check_positive_int


def study_cells(sizes, seeds, methods):
    """``[(n, seeds, methods)]``: every size with every seed and method (methods checked)."""
    for method in methods:
        parse_method(method)
    for n in sizes:
        check_positive_int(n, "size", "study")
    return [(int(n), tuple(seeds), tuple(methods)) for n in sizes]


def _floor(target, images, held_out, reference, key, n, seed):
    s = target.settings
    second = target.second_extractor
    copier = copier_floor(images, reference, target.extractor, s.n_fake, key, seed, second)
    real = evaluate_samples(reference, held_out[:s.n_fake], target.extractor, ("fid", "pr"), reference_key=key)
    real_2 = evaluate_samples(reference, held_out[:s.n_fake], second, ("fid",), reference_key=key) if second else {}
    return {"target": target.label, "n": n, "seed": seed, "copier_fid": copier["fid"],
            "copier_recall": copier["recall"], "real_fid": real["fid"], "real_n": int(min(len(held_out), s.n_fake)),
            "copier_fid_2": copier.get("fid_2"), "real_fid_2": real_2.get("fid")}


def arm_weights(settings, tuned, n, method):
    """The hyperparameters of one arm: the study's `weights`, then the values tuned for (`n`, `method`)."""
    return {**(settings.weights or {}), **(tuned or {}).get((n, method), {})}


def run_key(target, n, seed, method, draw, reference, code, weights=None):
    """Everything that changes one run's figures (`RunCache`); `draw` and `reference` are the digests of the
    drawn and held-out images and of the reference images (`array_digest`), `weights` the arm's hyperparameters
    (`arm_weights`)."""
    s = target.settings
    return {"target": target.label, "n": n, "seed": seed, "method": method,
            "weights": {**DEFAULT_WEIGHTS, **(s.weights if weights is None else weights or {})},
            "source": target.source_name,
            "source_sha256": target.source_sha256, "dataset": target.dataset, "image_size": target.size,
            "channels": target.channels, "draw": draw, "reference": reference,
            "steps": s.steps, "eval_every": s.eval_every, "batch_size": s.batch_size, "freeze_d": s.freeze_d,
            "n_fake": s.n_fake, "extractor": target.extractor.cache_name,
            "second_extractor": target.second_extractor.cache_name if target.second_extractor else None, "code": code}


def run_cells(target, cells, cache_dir, report=print, tuned=None):
    """Train and measure every arm of `cells` on `target`, reusing finished runs whose key (`run_key`: settings,
    source checkpoint, draw, evaluator and code) is unchanged; `tuned` maps ``(n, method)`` to the arm's tuned
    hyperparameters (`study.tuning`). ``(runs, floors, cached)``."""
    s, cache, code = target.settings, RunCache(cache_dir), code_digest()
    runs, floors, cached, start = [], [], 0, time.perf_counter()
    for n, seeds, methods in cells:
        for seed in seeds:
            images, held_out, reference, ref_key = target.draw(n, seed)
            digests = array_digest(images, held_out), array_digest(reference)  # once per draw, for every arm
            if not any(f["n"] == n and f["seed"] == seed for f in floors):
                floors.append(_floor(target, images, held_out, reference, ref_key, n, seed))
            for method in methods:
                weights = arm_weights(s, tuned, n, method)
                key = run_key(target, n, seed, method, *digests, code, weights)
                run = cache.get(key)
                was_cached = run is not None
                cached += was_cached
                if run is None:
                    run = run_arm(method, target.source, images, s.steps, s.eval_every, reference, target.extractor,
                                  batch_size=s.batch_size, seed=seed, n_fake=s.n_fake, freeze_d=s.freeze_d,
                                  reference_key=ref_key, held_out=held_out, weights=weights,
                                  second_extractor=target.second_extractor, small_held_out=held_out[:n])
                    run.pop("model"), run.pop("report")
                    run.update(target=target.label, n=n, source=target.source_name, dataset=target.dataset,
                               weights=weights)
                    cache.put(key, run)
                runs.append(run)
                if report is not None:
                    report(arm_summary_line(run, was_cached, time.perf_counter() - start))
    return runs, floors, cached


def write_study(out, runs, floors, methods, header, name="study", targets=None, tunings=()):
    """``NAME.md`` (header, verdict, table, the tuned hyperparameters, figures), ``NAME.json``, ``NAME.png`` and
    ``NAME_curves.png``; `tunings` are `study.tuning.tune` results."""
    sizes = sorted({r["n"] for r in runs})
    rows = summarize(runs, floors, methods, sizes)
    os.makedirs(out, exist_ok=True)
    write_text(os.path.join(out, f"{name}.json"), json.dumps(
        {"header": header, "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}", "rows": rows,
         "floors": floors, "runs": runs, "tunings": list(tunings)}, indent=1, default=str))
    plot_against_n([r for r in rows if r["method"] != "floor"] + [r for r in rows if r["method"] == "floor"],
                   methods, os.path.join(out, f"{name}.png"))
    plot_curves(runs, methods, sizes, os.path.join(out, f"{name}_curves.png"))
    architectures = [t for t in ("close", "close_style", "close_diffusion") if any(r["target"] == t for r in runs)]
    side_by_side = []
    if len(architectures) > 1:  # on the draws (N, seed) every architecture ran, so each sees the same images
        seeds = {n: set.intersection(*[{r["seed"] for r in runs if r["target"] == t and r["n"] == n}
                                       for t in architectures]) for n in sizes}
        shared = [r for r in runs if r["target"] in architectures and r["seed"] in seeds[r["n"]]]
        side_by_side = ["## Architectures side by side (the close target, the same training time)", "",
                        "On the draws every architecture ran (" + "; ".join(
                            f"N = {n}: seeds {', '.join(map(str, sorted(s)))}" for n, s in seeds.items() if s)
                        + "): each architecture's best transfer arm (lowest mean selected FID) and its own baseline.",
                        "", *across_architectures(summarize(shared, [], methods, sizes), architectures), ""]
    lines = [*header, "", "## Against the target", "", *verdict(rows, None, targets), "", *side_by_side,
             "## Every arm", "",
             *table(rows, None), "",
             *(["## Hyperparameters chosen on held-out data", "", *choices_table(tunings), ""] if tunings else []),
             f"![best FID against N]({name}.png)", "", f"![FID against steps]({name}_curves.png)",
             ""]
    write_text(os.path.join(out, f"{name}.md"), "\n".join(lines))
    return rows, lines


def run_study(source, dataset, out, sizes=(10, 25), seeds=(0,), methods=None, channels=None, data_dir=None,
              cache_dir=None, report=print, **settings):
    """Transfer arms against the scratch + DiffAugment baseline (plain scratch for a diffusion source) on
    `dataset`, from `source`, written to `out`.

    Args:
        source: a GAN to transfer from (zoo name, file or model).
        dataset: the target data spec (``load_images``'s: a built-in dataset, a folder of images, a file).
        out: the output directory.
        sizes, seeds, methods: the few-shot sizes N, the seeds of the draws, the arms (default
            `study.arms.METHODS`, or `DIFFUSION_METHODS` for a diffusion source; e.g. ``"scratch+diffaugment"``,
            ``"trgan+freeze_d+diffaugment"``, ``"diffusion+lora"``).
        channels: the target's channels (default: the source's).
        cache_dir: finished runs (default ``out/.study_runs``).
        report: callable receiving one line per finished arm (None: silent).
        **settings: `StudySettings` fields (``steps``, ``eval_every``, ``reference``, ...).

    Returns:
        ``{"rows": the table's rows, "markdown": path, "runs": [...], "cached": int}``.
    """
    settings = StudySettings(**settings)
    settings.check()
    target = StudyTarget(str(dataset).rstrip("/").split("/")[-1] or "target", source, dataset, settings, channels, data_dir)
    diffusion = target.source.family == "diffusion"
    baseline = SCRATCH if diffusion else BASELINE
    methods = list(dict.fromkeys([baseline, *(methods or (DIFFUSION_METHODS if diffusion else METHODS))]))
    cells = study_cells(sizes, seeds, methods)
    start = time.perf_counter()
    runs, floors, cached = run_cells(target, cells, cache_dir or os.path.join(out, ".study_runs"), report)
    reference = "the test split" if settings.reference == "test" else \
        f"{settings.reference} train images outside the few-shot subset and the held-out images (per draw)"
    header = ["# Does transfer help on this data?", "",
              f"`{target.source_name}` -> `{dataset}`: N in {', '.join(map(str, sizes))}, seeds "
              f"{', '.join(map(str, seeds))}; {settings.steps} steps of batch {settings.batch_size}, measured every "
              f"{settings.eval_every} steps on {settings.n_fake} samples against {reference} "
              f"({time.perf_counter() - start:.0f} s; {cached} of {len(runs)} runs from the cache). "
              f"FID (selected): at the step with the lowest KID against up to {settings.held_out} held-out train "
              f"images; {method_label(baseline)} is the baseline."]
    rows, _ = write_study(out, runs, floors, methods, header)
    return {"rows": rows, "markdown": os.path.join(out, "study.md"), "runs": runs, "cached": cached}
