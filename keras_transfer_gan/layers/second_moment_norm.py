"""`SecondMomentNorm`: scale each vector to unit mean square (StyleGAN's ``normalize_2nd_moment`` of z)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class SecondMomentNorm(keras.layers.Layer):
    """``x / sqrt(mean(x^2, last axis) + 1e-8)``."""

    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-8)
