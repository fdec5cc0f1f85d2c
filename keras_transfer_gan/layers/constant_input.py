"""`ConstantInput`: a learned constant tensor, repeated for every sample of the batch (StyleGAN's 4x4 start)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class ConstantInput(keras.layers.Layer):
    """Called on any tensor with a batch dimension, returns the learned constant of `shape` (initialised
    N(0, 1)) once per sample: ``[batch, *shape]``.

    Args:
        shape: tuple of ints, e.g. ``(4, 4, 128)``.
    """

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.shape = tuple(int(s) for s in shape)

    def build(self, input_shape):
        self.const = self.add_weight(name="const", shape=self.shape,
                                     initializer=keras.initializers.RandomNormal(stddev=1.0))

    def call(self, x):
        batch = ops.shape(x)[0]
        return ops.broadcast_to(ops.cast(self.const, x.dtype)[None], (batch, *self.shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.shape)

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape)}
