"""`DiffAugment` (Zhao et al., 2020): differentiable augmentation of D's inputs, real and fake alike."""

import tensorflow as tf

from keras_transfer_gan.utils.replicas import replica_slice

POLICIES = ("color", "translation", "cutout")


def uniform_per_image(batch, seed, tail=()):
    """Per-sample uniforms [0, 1), drawn for the global batch so replicas agree."""
    return replica_slice(batch, lambda n: tf.random.stateless_uniform([n, *tail], seed=seed))


class DiffAugment:
    """Colour, translation and cutout, each differentiable with respect to the images.

    Call it as ``augment(images, seed)`` with images in [-1, 1] and a stateless
    seed (shape ``[2]``); the GAN applies it to real and fake images on D's
    input, in D's and in G's step, so gradients flow through it to G.

    Args:
        policy: str. Comma-separated subset of ``color,translation,cutout``.
            Defaults to all three.
        translation_ratio: float. Largest shift as a fraction of the size. Defaults to 1/8.
        cutout_ratio: float. Side of the erased square as a fraction of the size. Defaults to 1/2.

    Example:
    >>> augment = DiffAugment("color,translation")
    >>> out = augment(images, tf.constant([0, 1]))
    """

    def __init__(self, policy="color,translation,cutout", translation_ratio=0.125, cutout_ratio=0.5):
        self.ops = [p.strip() for p in policy.split(",") if p.strip()]
        unknown = [p for p in self.ops if p not in POLICIES]
        if unknown or not self.ops:
            raise ValueError(f"DiffAugment: unknown policy {policy!r} (choose from {', '.join(POLICIES)})")
        self.policy = policy
        self.translation_ratio = translation_ratio
        self.cutout_ratio = cutout_ratio

    def __call__(self, images, seed):
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
        x = images
        if "color" in self.ops:
            x = self.color(x, seeds[0], seeds[1], seeds[2])
        if "translation" in self.ops:
            x = self.translation(x, seeds[3])
        if "cutout" in self.ops:
            x = self.cutout(x, seeds[4])
        return x

    @staticmethod
    def color(x, brightness_seed, saturation_seed, contrast_seed):
        batch = tf.shape(x)[0]
        x = x + (uniform_per_image(batch, brightness_seed, (1, 1, 1)) - 0.5)
        mean = tf.reduce_mean(x, axis=3, keepdims=True)
        x = (x - mean) * (uniform_per_image(batch, saturation_seed, (1, 1, 1)) * 2.0) + mean
        mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
        return (x - mean) * (uniform_per_image(batch, contrast_seed, (1, 1, 1)) + 0.5) + mean

    def translation(self, x, seed):
        batch, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]
        shift_h, shift_w = int(height * self.translation_ratio + 0.5), int(width * self.translation_ratio + 0.5)
        draws = uniform_per_image(batch, seed, (2,))
        ty = tf.cast(tf.floor(draws[:, 0] * (2 * shift_h + 1)), tf.int32) - shift_h
        tx = tf.cast(tf.floor(draws[:, 1] * (2 * shift_w + 1)), tf.int32) - shift_w
        rows = tf.clip_by_value(tf.range(height)[None, :] + ty[:, None] + 1, 0, height + 1)
        cols = tf.clip_by_value(tf.range(width)[None, :] + tx[:, None] + 1, 0, width + 1)
        padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])  # zeros come in from the border
        x = tf.gather(padded, rows, axis=1, batch_dims=1)
        return tf.gather(x, cols, axis=2, batch_dims=1)

    def cutout(self, x, seed):
        batch, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]
        cut_h, cut_w = int(height * self.cutout_ratio + 0.5), int(width * self.cutout_ratio + 0.5)
        draws = uniform_per_image(batch, seed, (2,))
        cy = tf.cast(tf.floor(draws[:, 0] * (height + 1 - cut_h % 2)), tf.int32)
        cx = tf.cast(tf.floor(draws[:, 1] * (width + 1 - cut_w % 2)), tf.int32)
        ys = tf.range(height)[None, :] - (cy[:, None] - cut_h // 2)
        xs = tf.range(width)[None, :] - (cx[:, None] - cut_w // 2)
        inside_y = tf.logical_and(ys >= 0, ys < cut_h)[:, :, None]
        inside_x = tf.logical_and(xs >= 0, xs < cut_w)[:, None, :]
        mask = 1.0 - tf.cast(tf.logical_and(inside_y, inside_x), x.dtype)
        return x * mask[..., None]
