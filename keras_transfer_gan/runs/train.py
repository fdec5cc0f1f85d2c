"""`train_run`: train a registered architecture on a data spec into an output directory (what `ktg train` does)."""

import json
import os
import time

import keras
import tensorflow as tf

from keras_transfer_gan.registry import build_model, get_entry
from keras_transfer_gan.runs.outputs import save_model, write_samples
from keras_transfer_gan.training import (
    SampleGrid,
    TensorBoardLogger,
    Trainer,
    compile_for_training,
    get_strategy,
    precision_scope,
)
from keras_transfer_gan.utils.atomic import write_text
from keras_transfer_gan.utils.checks import check_choice, check_positive_int

LOOPS = ("trainer", "fit")
JIT = {"auto": "auto", "on": True, "off": False}


def train_run(model, dataset, out, epochs=5, batch_size=64, image_size=32, channels=None, limit=None, seed=0,
              lr=None, beta1=None, model_args=None, tiny=False, strategy="default", loop="trainer", resume=False,
              precision="auto", jit_compile="auto", steps_per_execution=1, checkpoint_every=None,
              on_nonfinite="stop", deterministic=False, data_dir=None, verbose=1, seq_len=64, vocab_size=None,
              prompt="The ", length=400, temperature=0.8):
    """Train architecture `model` on `dataset`, writing checkpoints, sample grids (or text), TensorBoard logs,
    ``metrics.json`` and ``model.keras`` to `out`.

    The training batches come from the entry (`ModelEntry.training_data`: labels, conditioning images or a
    text corpus as the architecture consumes), which also fixes the image size, channels, class count or
    vocabulary; `model_args` add constructor arguments. ``loop="trainer"`` runs `Trainer` (checkpoints,
    `resume`, `on_nonfinite`), ``"fit"`` Keras' `fit`. ``precision="auto"`` trains in ``mixed_bfloat16``
    where the hardware has bfloat16 arithmetic, else float32 (`resolve_precision`); the global dtype policy
    is restored afterwards.

    Returns:
        ``{"model": path, "samples": path, "metrics": path, "history": {...}, "precision": policy,
        "precision_reason": why}``.
    """
    with precision_scope(precision) as (policy, reason):
        paths = _train_run(model, dataset, out, epochs, batch_size, image_size, channels, limit, seed, lr, beta1,
                           model_args, tiny, strategy, loop, resume, policy, jit_compile, steps_per_execution,
                           checkpoint_every, on_nonfinite, deterministic, data_dir, verbose, seq_len, vocab_size,
                           prompt, length, temperature)
    return {**paths, "precision_reason": reason}


def _train_run(model, dataset, out, epochs, batch_size, image_size, channels, limit, seed, lr, beta1, model_args,
               tiny, strategy, loop, resume, precision, jit_compile, steps_per_execution, checkpoint_every,
               on_nonfinite, deterministic, data_dir, verbose, seq_len, vocab_size, prompt, length, temperature):
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("image_size", image_size)):
        check_positive_int(value, name, "train")
    for name, value in (("limit", limit), ("checkpoint_every", checkpoint_every)):
        check_positive_int(value, name, "train", allow_none=True)
    check_positive_int(steps_per_execution, "steps_per_execution", "train")
    check_choice(loop, "loop", "train", LOOPS)
    check_choice(jit_compile, "jit_compile", "train", tuple(JIT))
    if resume and loop == "fit":
        raise ValueError("train: resume needs loop='trainer' (checkpoints are the Trainer's)")
    entry = get_entry(model)
    strategy_name = strategy if isinstance(strategy, str) else type(strategy).__name__
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    strategy = get_strategy(strategy)
    data = entry.training_data(dataset, image_size=image_size, channels=channels, batch_size=batch_size,
                               limit=limit, seed=seed, data_dir=data_dir, seq_len=seq_len, vocab_size=vocab_size)
    with strategy.scope():
        net = build_model(model, tiny=tiny, replicas=strategy.num_replicas_in_sync,
                          **{"seed": seed, **data.overrides, **(model_args or {})})
        compile_for_training(net, strategy, learning_rate=lr, beta_1=beta1, jit_compile=JIT[jit_compile],
                             steps_per_execution=steps_per_execution)
    os.makedirs(out, exist_ok=True)
    callbacks = [TensorBoardLogger(os.path.join(out, "tensorboard"), conditions=data.conditions)]
    if net.generates == "images":
        callbacks.append(SampleGrid(out, n=64, seed=seed, conditions=data.conditions))
    start = time.perf_counter()
    if loop == "fit":
        history = net.fit(data.dataset, epochs=epochs, callbacks=callbacks, verbose=verbose).history
    else:
        trainer = Trainer(net, strategy, checkpoint_dir=os.path.join(out, "checkpoints"),
                          checkpoint_every=checkpoint_every, callbacks=callbacks, verbose=verbose,
                          on_nonfinite=on_nonfinite)
        history = trainer.fit(data.dataset, epochs=epochs, resume=resume)
    seconds = time.perf_counter() - start
    paths = {"model": save_model(net, out), "history": history, "precision": precision}
    if net.generates == "text":
        paths["samples"] = write_samples(net, os.path.join(out, "samples.txt"), length, seed=seed,
                                         conditions=prompt, temperature=temperature)
    else:
        paths["samples"] = os.path.join(out, "samples.png")
    metrics = {
        "model": model, "dataset": dataset, "epochs": epochs, "batch_size": batch_size, "limit": limit, "seed": seed,
        "strategy": strategy_name, "loop": loop, "precision": precision, "jit_compile": bool(net.jit_compile),
        "seconds": round(seconds, 2), "config": net.get_config(), "history": history,
    }
    paths["metrics"] = write_text(os.path.join(out, "metrics.json"), json.dumps(metrics, indent=2, default=str))
    return paths
