"""Strategies by name: `default`, `mirrored`, `multi_worker`."""

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


def get_strategy(name="default", devices=None):
    """Return a `tf.distribute.Strategy` for a name.

    Args:
        name: str. ``"default"`` (one device), ``"mirrored"`` (all local GPUs,
            or `devices`) or ``"multi_worker"`` (MultiWorkerMirroredStrategy;
            reads the cluster from the ``TF_CONFIG`` environment variable).
        devices: list of device names for ``"mirrored"``, e.g.
            ``["/cpu:0", "/cpu:1"]``. Defaults to all local GPUs (or the CPU).
    """
    if isinstance(name, tf.distribute.Strategy):
        return name
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        config = os.environ.get("TF_CONFIG")
        if config:
            try:
                json.loads(config)
            except ValueError:
                raise ValueError("strategy 'multi_worker': TF_CONFIG is not valid JSON") from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r} (choose from {', '.join(STRATEGIES)})")
