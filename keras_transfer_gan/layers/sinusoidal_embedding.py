"""`SinusoidalEmbedding`: a scalar per sample (a diffusion model's noise level) as sines and cosines."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class SinusoidalEmbedding(keras.layers.Layer):
    """``x`` of shape ``[batch]`` or ``[batch, 1]`` -> ``[batch, dims]``: ``sin(2 pi f x)`` and ``cos(2 pi f x)``
    for `dims` / 2 frequencies spaced geometrically from `min_frequency` to `max_frequency` (the noise-variance
    embedding of keras-io's DDIM example; DDPM's timestep embedding up to the scale of its input).

    Args:
        dims: int. Even, the output width.
        min_frequency, max_frequency: floats. Defaults to 1 and 1000.

    It computes in float32 under any dtype policy unless given another `dtype`: the phases reach
    ``2 pi * max_frequency * x``, and bfloat16's 8-bit mantissa rounds ``x`` by up to 2^-9 relative, a phase
    error of radians at the top frequency (the embedding was noise under ``mixed_bfloat16`` before). Feed it
    a float32 input as well (see `build_unet`'s ``dn_noise_variance``).
    """

    def __init__(self, dims, min_frequency=1.0, max_frequency=1000.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if dims <= 0 or dims % 2:
            raise ValueError(f"SinusoidalEmbedding: dims must be a positive even number, got {dims!r}")
        if not 0 < min_frequency < max_frequency:
            raise ValueError(f"SinusoidalEmbedding: need 0 < min_frequency < max_frequency, got {min_frequency!r}, "
                             f"{max_frequency!r}")
        self.dims, self.min_frequency, self.max_frequency = int(dims), float(min_frequency), float(max_frequency)

    def frequencies(self):
        half = self.dims // 2
        logs = [math.log(self.min_frequency) + i * (math.log(self.max_frequency) - math.log(self.min_frequency))
                / max(half - 1, 1) for i in range(half)]
        return [math.exp(v) for v in logs]

    def call(self, x):
        x = ops.reshape(ops.cast(x, "float32"), (-1, 1))
        speeds = ops.convert_to_tensor([2.0 * math.pi * f for f in self.frequencies()], "float32")[None]
        return ops.concatenate([ops.sin(x * speeds), ops.cos(x * speeds)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims, "min_frequency": self.min_frequency,
                "max_frequency": self.max_frequency}
