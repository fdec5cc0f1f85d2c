"""`AffineAdaptor`: a learned affine map that starts as the identity (GenDA's latent adaptor)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class AffineAdaptor(keras.layers.Layer):
    """``x (I + A) + b`` with ``A = 0, b = 0`` at first: inserted into a trained network it changes nothing until
    it trains (GenDA, Yang et al. 2021: adapt a frozen generator through its latent code alone)."""

    def build(self, input_shape):
        units = int(input_shape[-1])
        self.delta = self.add_weight(name="delta", shape=(units, units), initializer="zeros")
        self.bias = self.add_weight(name="bias", shape=(units,), initializer="zeros")

    def call(self, x):
        return x + ops.matmul(x, ops.cast(self.delta, x.dtype)) + ops.cast(self.bias, x.dtype)
