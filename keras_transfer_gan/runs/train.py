"""`train_run`: train a registered architecture on a data spec into an output directory (what `ktg train` does)."""

import json
import os
import time

import keras
import tensorflow as tf

from keras_transfer_gan.registry import build_model, get_entry
from keras_transfer_gan.runs.outputs import save_model, write_samples
from keras_transfer_gan.tasks import StepOptions
from keras_transfer_gan.training import (
    SampleGrid,
    TensorBoardLogger,
    Trainer,
    compile_for_training,
    get_strategy,
    precision_scope,
)
from keras_transfer_gan.transfer.augmentation import AUGMENTS, make_augment
from keras_transfer_gan.utils.atomic import write_text
from keras_transfer_gan.utils.checks import check_choice, check_positive_int

LOOPS = ("trainer", "fit")
JIT = {"auto": "auto", "on": True, "off": False}


def train_run(model, dataset, out, epochs=5, batch_size=64, image_size=32, channels=None, limit=None, seed=0,
              lr=None, beta1=None, model_args=None, tiny=False, strategy="default", loop="trainer", resume=False,
              precision="auto", jit_compile="auto", steps_per_execution=1, checkpoint_every=None,
              on_nonfinite="stop", deterministic=False, data_dir=None, verbose=1, seq_len=64, vocab_size=None,
              prompt="The ", length=400, temperature=0.8, steps=None, sample_every=None, augment=None):
    """Train architecture `model` on `dataset`, writing checkpoints, sample grids (or text), TensorBoard logs,
    ``metrics.json`` and ``model.keras`` to `out`.

    The training batches come from the entry (`ModelEntry.training_data`: labels, conditioning images or a
    text corpus as the architecture consumes), which also fixes the image size, channels, class count or
    vocabulary; `model_args` add constructor arguments. ``loop="trainer"`` runs `Trainer` (checkpoints,
    `resume`, `on_nonfinite`), ``"fit"`` Keras' `fit`. `steps` trains that many steps (the data repeats) in
    blocks of `sample_every` instead of `epochs` passes. `augment` (``"diffaugment"``, ``"ada"``) augments a
    GAN's discriminator input. ``precision="auto"`` trains in ``mixed_bfloat16`` where the hardware has
    bfloat16 arithmetic, else float32 (`resolve_precision`); the global dtype policy is restored afterwards.

    Returns:
        ``{"model": path, "samples": path, "metrics": path, "history": {...}, "precision": policy,
        "precision_reason": why}``.
    """
    settings = {k: v for k, v in locals().items() if k not in ("precision", "deterministic")}
    _check(settings)
    settings["schedule"] = StepOptions(steps=steps, sample_every=sample_every)  # checks steps % block
    with precision_scope(precision) as (policy, reason):
        keras.utils.set_random_seed(seed)
        if deterministic:
            tf.config.experimental.enable_op_determinism()
        settings["strategy"] = get_strategy(strategy)
        net, data, blocks, block = _build(settings)
        start = time.perf_counter()
        history = _fit(net, data, blocks, block, settings)
        seconds = time.perf_counter() - start
        paths = _write(net, history, settings, dict(precision=policy, seconds=round(seconds, 2), sample_every=block,
                                                     strategy=strategy if isinstance(strategy, str) else
                                                     type(strategy).__name__))
    return {**paths, "precision": policy, "precision_reason": reason}


def _check(s):
    for name in ("epochs", "batch_size", "image_size", "steps_per_execution"):
        check_positive_int(s[name], name, "train")
    for name in ("limit", "checkpoint_every", "steps", "sample_every"):
        check_positive_int(s[name], name, "train", allow_none=True)
    check_choice(s["loop"], "loop", "train", LOOPS)
    check_choice(s["jit_compile"], "jit_compile", "train", tuple(JIT))
    check_choice(s["augment"] or "none", "augment", "train", AUGMENTS)
    if s["resume"] and s["loop"] == "fit":
        raise ValueError("train: resume needs loop='trainer' (checkpoints are the Trainer's)")


def _build(s):
    """``(model, TrainingData, blocks, steps per block or None)``: the compiled model and its batches."""
    entry, strategy = get_entry(s["model"]), s["strategy"]
    augment = s["augment"] not in (None, "none")
    if augment and not entry.model_class.takes_augment:
        raise ValueError(f"train: --augment is for GANs (a discriminator's input); {s['model']} takes none")
    batch_size = s["schedule"].few_shot_batch(s["batch_size"], s["limit"])
    data = entry.training_data(s["dataset"], image_size=s["image_size"], channels=s["channels"], batch_size=batch_size,
                               limit=s["limit"], seed=s["seed"], data_dir=s["data_dir"], seq_len=s["seq_len"],
                               vocab_size=s["vocab_size"])
    with strategy.scope():
        net = build_model(s["model"], tiny=s["tiny"], replicas=strategy.num_replicas_in_sync,
                          **{"seed": s["seed"], **data.overrides, **(s["model_args"] or {})})
        compile_for_training(net, strategy, learning_rate=s["lr"], beta_1=s["beta1"],
                             jit_compile=JIT[s["jit_compile"]], steps_per_execution=s["steps_per_execution"],
                             **({"augment": make_augment(s["augment"])} if augment else {}))
    blocks, block = s["schedule"].schedule(s["epochs"])
    if block is not None:
        data.dataset = data.dataset.repeat()
    return net, data, blocks, block


def _fit(net, data, blocks, block, s):
    """Train `blocks` epochs (of `block` steps each when given) with `fit` or the `Trainer`; the history."""
    out = s["out"]
    os.makedirs(out, exist_ok=True)
    callbacks = [TensorBoardLogger(os.path.join(out, "tensorboard"), conditions=data.conditions)]
    if net.generates == "images":
        callbacks.append(SampleGrid(out, n=64, seed=s["seed"], conditions=data.conditions))
    if s["loop"] == "fit":
        return net.fit(data.dataset, epochs=blocks, steps_per_epoch=block, callbacks=callbacks,
                       verbose=s["verbose"]).history
    trainer = Trainer(net, s["strategy"], checkpoint_dir=os.path.join(out, "checkpoints"),
                      checkpoint_every=s["checkpoint_every"], callbacks=callbacks, verbose=s["verbose"],
                      on_nonfinite=s["on_nonfinite"])
    return trainer.fit(data.dataset, epochs=blocks, steps_per_epoch=block, resume=s["resume"])


def _write(net, history, s, run):
    """``model.keras``, the text sample of a text model, and ``metrics.json``."""
    out = s["out"]
    paths = {"model": save_model(net, out), "history": history}
    if net.generates == "text":
        paths["samples"] = write_samples(net, os.path.join(out, "samples.txt"), s["length"], seed=s["seed"],
                                         conditions=s["prompt"], temperature=s["temperature"])
    else:
        paths["samples"] = os.path.join(out, "samples.png")
    metrics = {
        "model": s["model"], "dataset": s["dataset"], "epochs": s["epochs"] if s["steps"] is None else None,
        "steps": s["steps"], "sample_every": run["sample_every"], "augment": s["augment"] or "none",
        "batch_size": s["batch_size"], "limit": s["limit"], "seed": s["seed"], "strategy": run["strategy"],
        "loop": s["loop"], "precision": run["precision"], "jit_compile": bool(net.jit_compile),
        "seconds": run["seconds"], "config": net.get_config(), "history": history,
    }
    paths["metrics"] = write_text(os.path.join(out, "metrics.json"), json.dumps(metrics, indent=2, default=str))
    return paths
