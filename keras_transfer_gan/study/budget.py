"""Equal training time across architectures: a study arm of a costlier model gets fewer steps, not more time.

The GAN arms train a fixed number of steps; an arm of another architecture (a style-based GAN, a diffusion
model) on the same target gets the steps that cost the same CPU time: the reference's steps divided by the
measured cost of one of its steps relative to one of the reference's (`step_cost_ratio`), with as many
evaluations (`equal_time_schedule`), or fewer where one evaluation costs more than the whole training budget
(a diffusion model's samples take tens of network passes each). The ratio is measured once, in one process with
interleaved rounds (a slower or loaded machine slows both alike), and kept with the study's runs so a resumed
study reuses it.
"""

import json
import os
import time

import numpy as np
import tensorflow as tf

from keras_transfer_gan.training import compile_for_training
from keras_transfer_gan.utils.atomic import write_text


def _timed_step(model, batch):
    """A traced training step of a fresh copy of `model`'s architecture on `batch` (weights don't change the
    cost), and the call that runs it."""
    copy = type(model).from_config(model.get_config())
    compile_for_training(copy)
    step = tf.function(copy.train_step)
    for _ in range(2):  # trace and warm up
        step(batch)
    return lambda: [float(v) for v in step(batch).values()]


def step_cost_ratio(reference, other, batch_size=32, rounds=5, steps=3, seed=0):
    """Seconds of one training step of `other` over one of `reference` at `batch_size`, each on images of its
    own shape: the fastest of `rounds` interleaved rounds of `steps` steps each (stalls only lengthen rounds)."""
    rng = np.random.default_rng(seed)
    runs = {}
    for name, model in (("reference", reference), ("other", other)):
        images = rng.uniform(-1, 1, (batch_size, model.image_size, model.image_size, model.channels))
        batch = tf.constant(images.astype("float32"))
        if getattr(model, "num_classes", 0):
            batch = (batch, tf.constant(np.arange(batch_size) % model.num_classes, tf.int32))
        runs[name] = _timed_step(model, batch)
    best = {name: float("inf") for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            for _ in range(steps):
                run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best["other"] / best["reference"]


def equal_time_schedule(steps, eval_every, ratio, evaluations=None):
    """``(steps, eval_every)`` costing what `steps` reference steps cost at a step-cost `ratio`, with as many
    evaluations as the reference (``steps // eval_every``) or `evaluations`: ``steps / ratio`` rounded to a
    multiple of the evaluation count (at least one step each)."""
    if ratio <= 0:
        raise ValueError(f"equal_time_schedule: the cost ratio must be positive, got {ratio!r}")
    if evaluations is not None and (isinstance(evaluations, bool) or not isinstance(evaluations, int)
                                    or evaluations < 1):
        raise ValueError(f"equal_time_schedule: evaluations must be a positive int, got {evaluations!r}")
    evaluations = evaluations or steps // eval_every
    every = max(1, int(round(steps / ratio / evaluations)))
    return every * evaluations, every


def cached_step_cost_ratio(cache_dir, key, measure):
    """The ratio kept in ``cache_dir/step_costs.json`` for `key` (a dict: both sources' SHA-256, the batch and
    ``"machine"``), else `measure()`, kept there: a resumed study reuses the first measurement.

    A ratio kept for the same sources and batch on another machine (a later session's) is reused too, so a study
    resumed elsewhere keeps the step budgets, hence the cached runs, of the study it resumes.

    Returns:
        ``(ratio, machine)``: `machine` is None for a ratio of this machine, else the other machine's description.
    """
    path = os.path.join(cache_dir, "step_costs.json")
    kept = {}
    if os.path.isfile(path):
        with open(path) as f:
            kept = json.load(f)
    name = json.dumps(key, sort_keys=True)
    if name in kept:
        return kept[name], None
    same = {k: v for k, v in key.items() if k != "machine"}
    for other_name, ratio in kept.items():
        other = json.loads(other_name)
        machine = other.pop("machine", "another machine")
        if other == same:
            return float(ratio), machine
    kept[name] = float(measure())
    os.makedirs(cache_dir, exist_ok=True)
    write_text(path, json.dumps(kept, indent=1))
    return kept[name], None
