"""What the models read: training batches, sampling noise and class labels."""

import numpy as np
import tensorflow as tf


def unpack_batch(data):
    """``(inputs, labels or None)`` from a batch given as ``x``, ``(x,)`` or ``(x, y)``."""
    if isinstance(data, (tuple, list)):
        return data[0], (data[1] if len(data) > 1 else None)
    return data, None


def prior_noise(n_or_z, latent_dim, seed):
    """Noise for sampling: `n` standard normal vectors drawn from `seed`, or a given ``z`` checked."""
    if isinstance(n_or_z, (int, np.integer)):
        if n_or_z <= 0:
            raise ValueError(f"generate: n must be positive, got {n_or_z}")
        return tf.random.stateless_normal([int(n_or_z), latent_dim], seed=[int(seed), 7919])
    z = tf.convert_to_tensor(n_or_z, tf.float32)
    if z.shape.rank != 2 or z.shape[-1] != latent_dim:
        raise ValueError(f"generate: z must be shaped (n, {latent_dim}), got {tuple(z.shape)}")
    return z


def class_labels(labels, n, num_classes):
    """int32 labels for `n` samples: given ones checked, or None cycling 0, 1, ..., num_classes - 1."""
    if labels is None:
        return tf.constant(np.arange(n) % num_classes, tf.int32)
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != n:
        raise ValueError(f"{labels.shape[0]} labels for {n} samples")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {labels.dtype}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must be in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    return tf.constant(labels, tf.int32)
