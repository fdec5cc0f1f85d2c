"""`transfer_run`: a registered task (recipe) from a source model to a target data spec, into an output directory."""

import json
import os
import time

import keras

from keras_transfer_gan.runs.outputs import load_source, save_model, write_samples
from keras_transfer_gan.tasks import TaskContext, get_task, pick_task
from keras_transfer_gan.training import get_strategy, precision_scope
from keras_transfer_gan.utils.atomic import write_text
from keras_transfer_gan.utils.checks import check_positive_int


def transfer_run(recipe, source, dataset, out, epochs=5, batch_size=64, image_size=None, channels=None, limit=None,
                 seed=0, lr=None, model_args=None, data_dir=None, verbose=1, safe_mode=True, report_to=print,
                 strategy="default", precision="auto", **options):
    """What `ktg transfer` does: run the task `recipe` from `source` on `dataset` and write the result to `out`.

    `recipe` is a registered task's name (`tasks.list_tasks()`), or ``"auto"``: the first task that accepts
    the source. `options` are that task's options (its `options_class`; e.g. ``freeze_d=2`` for ``trgan``);
    another task's option is a one-line error. The task prints (`report_to`) the transfer report and the
    freeze summary before training; `out` receives ``model.keras``, samples (``samples.png``, or
    ``samples.txt`` for text, as the task declares), the sample grids, TensorBoard logs and checkpoints the
    task writes, and ``metrics.json`` (settings, options, history, report, freeze summary). `image_size`
    defaults to the source's; `strategy` and `precision` are as for `train_run`.

    Returns:
        ``{"model": path, "samples": path or None, "metrics": path, "result": RecipeResult, "task": Task}``.
    """
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        check_positive_int(value, name, "transfer")
    for name, value in (("image_size", image_size), ("limit", limit)):
        check_positive_int(value, name, "transfer", allow_none=True)
    with precision_scope(precision) as (policy, reason):
        keras.utils.set_random_seed(seed)
        model = load_source(source, safe_mode)
        task = pick_task(model) if recipe == "auto" else get_task(recipe)
        task.check(model)
        settings = task.options(**options)
        context = TaskContext(dataset, out, image_size, channels, batch_size, limit, seed, data_dir, epochs, lr,
                              dict(model_args or {}), verbose, report_to, get_strategy(strategy))
        os.makedirs(out, exist_ok=True)
        start = time.perf_counter()
        result = task.run(model, context, settings)
        seconds = time.perf_counter() - start
        paths = _write(task, result, context, settings, out)
        summary = dict(recipe=task.name, source=source, precision=policy, seconds=round(seconds, 2))
        paths["metrics"] = _write_metrics(out, summary, context, settings, result)
    return {**paths, "result": result, "task": task, "precision": policy, "precision_reason": reason}


def _write(task, result, context, options, out):
    """The model file and, as the task declares, its samples."""
    paths = {"model": save_model(result.model, out), "samples": None}
    settings = task.sample_settings(options)
    if task.samples is not None and settings is not None:
        n, conditions, extra = settings
        name = "samples.txt" if task.samples == "text" else "samples.png"
        paths["samples"] = write_samples(result.model, os.path.join(out, name), n, seed=context.seed,
                                         conditions=conditions, **extra)
    return paths


def _write_metrics(out, summary, context, options, result):
    """``out/metrics.json``: the run's settings, the task's options and what the run measured."""
    block = options.block if hasattr(options, "block") else None
    summary = {
        "recipe": summary["recipe"], "from": summary["source"], "dataset": context.dataset, "limit": context.limit,
        "epochs": context.epochs if block is None else None, "sample_every": block,
        "batch_size": context.batch_size_for(options), "precision": summary["precision"],
        "strategy": type(context.strategy).__name__, "seed": context.seed, **options.as_dict(),
        "seconds": summary["seconds"], "history": result.history, "extra": result.extra,
        "report": result.report.as_dict() if result.report is not None else None,
        "freeze": result.freeze.parts if result.freeze is not None else None,
    }
    return write_text(os.path.join(out, "metrics.json"), json.dumps(summary, indent=2, default=str))
