"""`EqualizedDense`: a dense layer with StyleGAN's equalised learning rate (weights scaled at run time)."""

import math

import keras
from keras import ops

SQRT2 = math.sqrt(2.0)


def activate(x, activation):
    """``"linear"`` or ``"lrelu"`` (slope 0.2, times sqrt(2) to keep the signal's magnitude, as StyleGAN2)."""
    if activation == "lrelu":
        return ops.leaky_relu(x, 0.2) * SQRT2
    if activation != "linear":
        raise ValueError(f"activation must be 'linear' or 'lrelu', got {activation!r}")
    return x


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class EqualizedDense(keras.layers.Layer):
    """``activation((x @ W) * lr_multiplier / sqrt(fan_in) + b * lr_multiplier)`` with ``W ~ N(0, 1 / lr_multiplier^2)``.

    Equalised learning rate (Karras et al.): every weight is stored at unit scale and multiplied by its layer's
    He constant in the forward pass, so Adam's per-weight steps are alike across layers; `lr_multiplier`
    slows a part down (the mapping network's 0.01) without an optimizer of its own.

    Args:
        units: int. Output features.
        lr_multiplier: float. Defaults to 1.
        bias_init: float. The bias's initial value (the style affines' 1). Defaults to 0.
        activation: ``"linear"`` or ``"lrelu"``. Defaults to ``"linear"``.
        use_bias: bool. Defaults to True.
    """

    def __init__(self, units, lr_multiplier=1.0, bias_init=0.0, activation="linear", use_bias=True, **kwargs):
        super().__init__(**kwargs)
        activate(0.0, activation)  # a bad name is a one-line error here
        self.units, self.lr_multiplier, self.bias_init = int(units), float(lr_multiplier), float(bias_init)
        self.activation, self.use_bias = activation, bool(use_bias)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.kernel = self.add_weight(name="kernel", shape=(fan_in, self.units),
                                      initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier))
        self.bias = self.add_weight(name="bias", shape=(self.units,),
                                    initializer=keras.initializers.Constant(self.bias_init)) if self.use_bias else None
        self.weight_gain = self.lr_multiplier / math.sqrt(fan_in)

    def call(self, x):
        y = ops.matmul(x, ops.cast(self.kernel, x.dtype) * self.weight_gain)
        if self.bias is not None:
            y = y + ops.cast(self.bias, x.dtype) * self.lr_multiplier
        return activate(y, self.activation)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "lr_multiplier": self.lr_multiplier,
                "bias_init": self.bias_init, "activation": self.activation, "use_bias": self.use_bias}
