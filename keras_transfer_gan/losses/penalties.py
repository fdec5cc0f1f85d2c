"""Regularisers of the zoo's objectives, per example."""

import tensorflow as tf


def gradient_penalty(critic, real, fake, alpha):
    """WGAN-GP's penalty (Gulrajani et al., 2017): ``(||grad_x critic(x_hat)||_2 - 1)^2``.

    Args:
        critic: callable, images -> scores (one per example).
        real: real images ``[B, H, W, C]``.
        fake: generated images, same shape.
        alpha: interpolation weights ``[B]``, drawn uniformly from [0, 1) per sample.

    Returns:
        The penalty per example, shape ``[B]``.
    """
    alpha = tf.reshape(tf.cast(alpha, real.dtype), [-1] + [1] * (real.shape.rank - 1))
    interpolated = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = critic(interpolated)
    grads = tape.gradient(scores, interpolated)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=list(range(1, grads.shape.rank))) + 1e-12)
    return tf.square(norms - 1.0)


def kl_divergence(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per example: ``-1/2 sum(1 + log_var - mean^2 - exp(log_var))``."""
    return -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mean) - tf.exp(log_var), axis=-1)
