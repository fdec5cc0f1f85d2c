"""`WAverage`: the mapping network's tracked average of w (for the truncation trick)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class WAverage(keras.layers.Layer):
    """Passes w through; in training mode moves ``w_avg`` towards the batch mean (``w_avg <- lerp(mean(w), w_avg,
    beta)``, NVlabs' ``w_avg_beta`` 0.995). `truncate` pulls w towards it: ``w_avg + psi (w - w_avg)``.

    Args:
        beta: float in [0, 1). Defaults to 0.995.
    """

    def __init__(self, beta=0.995, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"WAverage: beta must be in [0, 1), got {beta!r}")
        self.beta = float(beta)

    def build(self, input_shape):
        self.w_avg = self.add_weight(name="w_avg", shape=(int(input_shape[-1]),), initializer="zeros",
                                     trainable=False)

    def call(self, w, training=False):
        if training:
            mean = ops.mean(ops.cast(ops.stop_gradient(w), "float32"), axis=0)
            self.w_avg.assign(mean + self.beta * (self.w_avg - mean))
        return w

    def truncate(self, w, psi):
        """``w_avg + psi * (w - w_avg)`` (psi 1: w unchanged; 0: the average)."""
        avg = ops.cast(self.w_avg, w.dtype)
        return avg + ops.cast(psi, w.dtype) * (w - avg)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}
