"""`transfer_run`: a transfer recipe from a source model to a target data spec, into an output directory."""

import json
import os
import time

import keras
import numpy as np

from keras_transfer_gan.data import few_shot_split, load_dataset, load_images, load_text
from keras_transfer_gan.metrics import extractor_for
from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.runs.outputs import load_source, save_model, write_samples
from keras_transfer_gan.training import KeepBest, SampleGrid, TensorBoardLogger, get_strategy, precision_scope
from keras_transfer_gan.transfer import recipes
from keras_transfer_gan.utils.atomic import write_text
from keras_transfer_gan.utils.checks import check_positive_int

GAN_RECIPES = ("trgan", "tgan", "ctgan")
STEP_RECIPES = GAN_RECIPES + ("text",)  # recipes that count in steps and checkpoint
#: The share of a text corpus held out (its end) for the perplexity the text recipe reports.
TEXT_HELD_OUT = 0.1


def _keep_best(dataset, limit, held_out, image_size, channels, seed, data_dir, extractor, patience):
    """A `KeepBest` on held-out images of the train split outside the `limit` subset."""
    check_positive_int(held_out, "held_out", "transfer")
    check_positive_int(patience, "patience", "transfer", allow_none=True)
    if not limit:
        raise ValueError("--keep_best needs --limit: the held-out images are the rest of the train split")
    _, images = few_shot_split(dataset, limit, held_out, image_size, channels, seed, data_dir=data_dir)
    if len(images) < 4:
        raise ValueError(f"--keep_best: only {len(images)} images of {dataset!r} are outside the training subset "
                         "(lower --limit)")
    extractor = extractor_for(dataset) if extractor == "auto" else extractor
    return KeepBest(images, extractor, patience=patience, seed=seed)


def _schedule(steps, sample_every, epochs):
    """``(epochs, steps_per_epoch)``: a step budget in blocks of `sample_every` steps (a sample grid and a
    checkpoint at each block's end), or `epochs` passes over the data."""
    if steps is None:
        return epochs, None
    every = sample_every or min(steps, 100)
    if steps % every:
        raise ValueError(f"--steps ({steps}) must be a multiple of --sample_every ({every})")
    return steps // every, every


def transfer_run(recipe, source, dataset, out, epochs=5, batch_size=64, image_size=None, channels=None, limit=None,
                 seed=0, lr=None, freeze_d=0, augment="none", l2_sp=None, cdc=None, ewc=None, scale_shift="none",
                 keep_best=False, held_out=500, patience=None, extractor="auto", finetune_epochs=1, per_class=10,
                 min_confidence=0.0, model_args=None, data_dir=None, verbose=1, safe_mode=True, report_to=print,
                 steps=None, sample_every=None, checkpoint_every=None, resume=False, strategy="default",
                 precision="auto", seq_len=64, freeze_embedding=False, freeze_first_lstm=False, prompt="The ",
                 length=400, temperature=0.8):
    """What `ktg transfer` does: run `recipe` from `source` on `dataset` and write the result to `out`.

    The recipe prints (`report_to`) the transfer report and the freeze summary before training; `out`
    receives ``model.keras``, sample grids (``samples.png``, and one per block of `sample_every` steps or
    per epoch with the GAN recipes), TensorBoard logs, checkpoints (``checkpoints/``: weights, optimizers,
    the step and ADA's p, every `checkpoint_every` steps and at each block's end) and ``metrics.json``
    (settings, history, report, freeze summary). `image_size` defaults to the source's.

    A few-shot run counts in `steps` (the data repeats; a batch holds at most the `limit` images);
    without `steps` it trains `epochs` passes. With `resume`, the GAN and text recipes continue from the
    latest checkpoint in ``out/checkpoints`` to the same total. `strategy` and `precision` are as for
    `train_run`. ``recipe="auto"`` is ``"text"`` for a character-model source, else ``"trgan"``.

    The text recipe reads `dataset` as a corpus (`load_text`), holds out its last `TEXT_HELD_OUT` for the
    perplexity curve (in ``metrics.json``), trains `steps` (default 500) steps and writes ``samples.txt``
    (`prompt`, `length`, `temperature`).

    Returns:
        ``{"model": path, "samples": path or None, "metrics": path, "result": RecipeResult}``.
    """
    arguments = dict(locals())
    with precision_scope(precision) as (policy, reason):
        paths = _transfer_run(**{**arguments, "precision": policy})
    return {**paths, "precision_reason": reason}


def _transfer_run(recipe, source, dataset, out, epochs, batch_size, image_size, channels, limit, seed, lr, freeze_d,
                  augment, l2_sp, cdc, ewc, scale_shift, keep_best, held_out, patience, extractor, finetune_epochs,
                  per_class, min_confidence, model_args, data_dir, verbose, safe_mode, report_to, steps, sample_every,
                  checkpoint_every, resume, strategy, precision, seq_len, freeze_embedding, freeze_first_lstm, prompt,
                  length, temperature):
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("per_class", per_class)):
        check_positive_int(value, name, "transfer")
    for name, value in (("image_size", image_size), ("limit", limit), ("steps", steps),
                        ("sample_every", sample_every), ("checkpoint_every", checkpoint_every)):
        check_positive_int(value, name, "transfer", allow_none=True)
    if freeze_d < 0 or finetune_epochs < 0:
        raise ValueError("--freeze_d and --finetune_epochs must be >= 0")
    for name, value in (("cdc", cdc), ("ewc", ewc)):
        if value is not None and value < 0:
            raise ValueError(f"--{name} must be >= 0, got {value}")
    keras.utils.set_random_seed(seed)
    strategy = get_strategy(strategy)
    source_model = load_source(source, safe_mode)
    ours = isinstance(source_model, Architecture)
    if recipe == "auto":
        recipe = "text" if ours and source_model.family == "text" else "trgan"
    if (steps or resume or checkpoint_every) and recipe not in STEP_RECIPES:
        raise ValueError(f"--steps, --resume and --checkpoint_every are for the recipes {', '.join(STEP_RECIPES)}")
    if recipe == "text":
        steps = steps or 500
    epochs, steps_per_epoch = _schedule(steps, sample_every, epochs)
    if steps is not None and limit:
        batch_size = min(batch_size, limit)  # a few-shot set smaller than a batch: every image in each batch
    size = image_size or (source_model.image_size if ours and source_model.consumes != "text" else 32)
    if channels is None and recipe in ("classifier", "augment") and ours:
        channels = source_model.channels  # the source reads (or writes) these
    common = dict(image_size=size, channels=channels, batch_size=batch_size, limit=limit, seed=seed,
                  data_dir=data_dir, drop_remainder=True)
    os.makedirs(out, exist_ok=True)
    callbacks = [SampleGrid(out, n=64, seed=seed), TensorBoardLogger(os.path.join(out, "tensorboard"))]
    training = dict(steps_per_epoch=steps_per_epoch, strategy=strategy, checkpoint_every=checkpoint_every,
                    resume=resume, checkpoint_dir=os.path.join(out, "checkpoints"))
    start = time.perf_counter()
    if recipe == "trgan":
        if not ours or source_model.family != "gan":
            raise ValueError(f"--recipe trgan needs a GAN source, got {type(source_model).__name__}")
        labelled = source_model.consumes == "labelled_images"
        data = load_dataset(dataset, labels=labelled, repeat=steps is not None, **common)
        spec = data.element_spec[0] if labelled else data.element_spec
        overrides = dict(channels=int(spec.shape[-1]), **({"image_size": size} if image_size else {}))
        selector = _keep_best(dataset, limit, held_out, size, overrides["channels"], seed, data_dir, extractor,
                              patience) if keep_best else None
        result = recipes.trgan(source_model, data, epochs=epochs, freeze_d=freeze_d, augment=augment, l2_sp=l2_sp,
                               cdc=cdc, ewc=ewc, scale_shift=scale_shift, keep_best=selector, learning_rate=lr,
                               callbacks=callbacks, verbose=verbose, report_to=report_to, **training, **overrides)
    elif recipe == "tgan":
        data = load_dataset(dataset, repeat=steps is not None, **common)
        conditions = np.concatenate([b.numpy() for b in data.take(-(-64 // batch_size))])[:64]
        callbacks = [SampleGrid(out, n=64, seed=seed, conditions=conditions),
                     TensorBoardLogger(os.path.join(out, "tensorboard"), conditions=conditions)]
        result = recipes.tgan(source_model, data, epochs=epochs, learning_rate=lr, callbacks=callbacks,
                              verbose=verbose, report_to=report_to, **training, **(model_args or {}))
    elif recipe == "ctgan":
        images, _ = load_images(dataset, image_size=size, channels=channels, limit=limit, seed=seed, data_dir=data_dir)
        result = recipes.ctgan(source_model, images, epochs=epochs, batch_size=batch_size,
                               min_confidence=min_confidence, model_args=model_args or {}, learning_rate=lr,
                               seed=seed, callbacks=callbacks, verbose=verbose, report_to=report_to, **training)
    elif recipe == "classifier":
        data = load_dataset(dataset, labels=True, **common)
        classes = int(max(int(np.max(b[1].numpy())) for b in data) + 1)
        result = recipes.finetune_classifier(
            source_model, data, num_classes=max(classes, 2), head_epochs=epochs, finetune_epochs=finetune_epochs,
            learning_rate=lr or 1e-3, validation_data=data, verbose=verbose, report_to=report_to,
            **({"channels": channels} if channels else {}))
    elif recipe == "augment":
        images, labels = load_images(dataset, image_size=size, channels=channels, limit=limit, seed=seed,
                                     labels=True, data_dir=data_dir)
        data = load_dataset(dataset, labels=True, **{**common, "limit": None, "drop_remainder": False})
        result = recipes.augmented_classifier(source_model, images, labels, per_class=per_class, epochs=epochs,
                                              batch_size=batch_size, validation_data=data, seed=seed, verbose=verbose)
    elif recipe == "text":
        corpus = load_text(dataset, data_dir=data_dir)
        cut = int(len(corpus) * (1.0 - TEXT_HELD_OUT))
        result = recipes.text(source_model, corpus[:cut], steps=steps, eval_every=steps_per_epoch, seq_len=seq_len,
                              batch_size=batch_size, freeze_embedding=freeze_embedding,
                              freeze_first_lstm=freeze_first_lstm, l2_sp=l2_sp, held_out=corpus[cut:],
                              learning_rate=lr, seed=seed, report_to=report_to, verbose=verbose,
                              callbacks=[callbacks[1]], **{k: v for k, v in training.items() if k != "steps_per_epoch"})
    else:
        raise ValueError(f"unknown recipe {recipe!r} (choose from auto, {', '.join(recipes.RECIPES)})")
    seconds = time.perf_counter() - start
    paths = {"model": save_model(result.model, out), "samples": None, "result": result, "precision": precision}
    if recipe in ("trgan", "ctgan"):
        paths["samples"] = write_samples(result.model, os.path.join(out, "samples.png"), 64, seed=seed)
    elif recipe == "text":
        paths["samples"] = write_samples(result.model, os.path.join(out, "samples.txt"), length, seed=seed,
                                         conditions=prompt, temperature=temperature)
    summary = {
        "recipe": recipe, "from": source, "dataset": dataset, "limit": limit,
        "epochs": epochs if steps is None else None, "steps": steps, "sample_every": steps_per_epoch,
        "batch_size": batch_size, "precision": precision, "strategy": type(strategy).__name__, "freeze_d": freeze_d,
        "augment": augment, "seed": seed, "cdc": cdc, "ewc": ewc, "scale_shift": scale_shift, "keep_best": keep_best,
        "seconds": round(seconds, 2), "history": result.history, "extra": result.extra,
        "report": result.report.as_dict() if result.report is not None else None,
        "freeze": result.freeze.parts if result.freeze is not None else None,
    }
    paths["metrics"] = write_text(os.path.join(out, "metrics.json"), json.dumps(summary, indent=2, default=str))
    return paths
