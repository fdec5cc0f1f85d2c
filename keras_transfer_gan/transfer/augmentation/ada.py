"""`ADA` (Karras et al., 2020): augment D's inputs with a probability adapted to D's overfitting."""

import tensorflow as tf

from keras_transfer_gan.transfer.augmentation.diff_augment import DiffAugment, uniform_per_image


class ADA:
    """Adaptive discriminator augmentation.

    Each image on D's input (real and fake alike) is augmented with
    probability ``p`` by differentiable ops (`DiffAugment`'s). After each D
    step, ``r_t = E[sign(D(real))]`` (averaged over replicas) measures
    overfitting, and ``p`` moves by ``batch / (speed_kimg * 1000)`` towards
    more augmentation when ``r_t`` exceeds `target` and towards less when
    below, clipped to [0, `max_p`].

    Create it inside `strategy.scope()` when training distributed (it owns a
    variable); attach with ``model.compile(..., augment=ADA())``.

    Args:
        target: float. The r_t to hold. Defaults to 0.6.
        speed_kimg: float. Thousands of images for p to go from 0 to 1. Defaults to 0.5
            (fast, for few-shot runs of a few thousand images).
        policy: str. `DiffAugment` policy of the ops applied. Defaults to all.
        initial_p: float. Defaults to 0.
        max_p: float. Defaults to 0.8.
    """

    def __init__(self, target=0.6, speed_kimg=0.5, policy="color,translation,cutout", initial_p=0.0, max_p=0.8):
        if not 0.0 <= initial_p <= max_p <= 1.0:
            raise ValueError(f"ADA: need 0 <= initial_p <= max_p <= 1, got {initial_p}, {max_p}")
        if speed_kimg <= 0:
            raise ValueError(f"ADA: speed_kimg must be positive, got {speed_kimg}")
        self.target = float(target)
        self.speed_kimg = float(speed_kimg)
        self.max_p = float(max_p)
        self.ops = DiffAugment(policy)
        self.p = tf.Variable(
            float(initial_p), trainable=False, name="ada_p",
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
        )

    def __call__(self, images, seed):
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
        augmented = self.ops(images, seeds[0])
        apply = uniform_per_image(tf.shape(images)[0], seeds[1], (1, 1, 1)) < tf.cast(self.p, images.dtype)
        return tf.where(apply, augmented, images)

    def update(self, real_logits):
        """Move p from this step's ``r_t``; returns r_t (averaged over replicas)."""
        signs = tf.sign(tf.cast(tf.reshape(real_logits, [-1]), tf.float32))
        ctx = tf.distribute.get_replica_context()
        total, count = tf.reduce_sum(signs), tf.cast(tf.size(signs), tf.float32)
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            total, count = ctx.all_reduce(tf.distribute.ReduceOp.SUM, [total, count])
        r_t = total / count
        step = tf.sign(r_t - self.target) * count / (self.speed_kimg * 1000.0)
        self.p.assign(tf.clip_by_value(self.p + step, 0.0, self.max_p))
        return r_t
