"""`EqualizedConv2D`: a convolution with StyleGAN's equalised learning rate, optionally halving the resolution."""

import math

import keras
from keras import ops

from keras_transfer_gan.layers.equalized_dense import activate


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class EqualizedConv2D(keras.layers.Layer):
    """``gain * activation(conv(x, W / sqrt(fan_in)) + b)``, ``W ~ N(0, 1)``, 'same' padding; with `downsample`,
    a 2x2 average pool after the convolution (StyleGAN2 blurs with [1, 3, 3, 1] and strides instead).

    Args:
        filters: int. Output channels.
        kernel_size: int. Defaults to 3.
        activation: ``"linear"`` or ``"lrelu"``. Defaults to ``"lrelu"``.
        use_bias: bool. Defaults to True.
        downsample: bool. Defaults to False.
        gain: float. Multiplies the output (a residual branch's sqrt(0.5)). Defaults to 1.
    """

    def __init__(self, filters, kernel_size=3, activation="lrelu", use_bias=True, downsample=False, gain=1.0,
                 **kwargs):
        super().__init__(**kwargs)
        activate(0.0, activation)
        self.filters, self.kernel_size, self.activation = int(filters), int(kernel_size), activation
        self.use_bias, self.downsample, self.gain = bool(use_bias), bool(downsample), float(gain)

    def build(self, input_shape):
        fan_in = int(input_shape[-1]) * self.kernel_size ** 2
        self.kernel = self.add_weight(name="kernel", shape=(self.kernel_size, self.kernel_size, int(input_shape[-1]),
                                                            self.filters),
                                      initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros") if self.use_bias else None
        self.weight_gain = 1.0 / math.sqrt(fan_in)

    def call(self, x):
        y = ops.conv(x, ops.cast(self.kernel, x.dtype) * self.weight_gain, padding="same")
        if self.downsample:
            y = ops.average_pool(y, 2, strides=2, padding="valid")
        if self.bias is not None:
            y = y + ops.cast(self.bias, y.dtype)
        return activate(y, self.activation) * self.gain

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "activation": self.activation, "use_bias": self.use_bias, "downsample": self.downsample,
                "gain": self.gain}
