"""`ModulatedConv2D`: StyleGAN2's modulated (and demodulated) convolution, in the non-fused form."""

import math

import keras
from keras import ops

from keras_transfer_gan.layers.equalized_dense import activate


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class ModulatedConv2D(keras.layers.Layer):
    """Scale the input by the per-sample style, convolve, scale by the demodulation coefficients (Karras et al.
    2020, the non-fused form of NVlabs' ``modulated_conv2d``: no grouped convolution, which TensorFlow lacks on
    CPU); then add per-pixel noise times a learned strength (0 at first), a bias and the activation.

    Called on ``[x, styles]`` or ``[x, styles, noise]`` (noise ``[batch, h, w, 1]`` at the output's size;
    `use_noise` layers need it). ``styles`` ``[batch, in_channels]`` come from the layer's affine map of w.

    Without demodulation (ToRGB) the styles are scaled by ``1 / sqrt(fan_in)`` instead, as NVlabs' ``ToRGBLayer``.
    With `upsample` the input is first doubled in size bilinearly (NVlabs: a transposed convolution with a
    [1, 3, 3, 1] filter; a departure).

    Args:
        filters: int. Output channels.
        kernel_size: int. Defaults to 3.
        demodulate: bool. Defaults to True.
        upsample: bool. Defaults to False.
        use_noise: bool. Defaults to True.
        activation: ``"lrelu"`` or ``"linear"``. Defaults to ``"lrelu"``.
        fused: bool. One grouped convolution with a kernel per sample instead (NVlabs' fused form; the same
            result, compared by ``tools/bench_train_step.py --model stylegan2``). Defaults to False.
        kernel_modulation: bool. AdAM's rank-1 kernel modulation (Zhao et al. 2022): the kernel is
            ``W * (1 + u v^T)`` over (input, output) channels, starting at W exactly; scale/shift adaptation
            freezes W and trains u and v. Defaults to False.
    """

    def __init__(self, filters, kernel_size=3, demodulate=True, upsample=False, use_noise=True, activation="lrelu",
                 fused=False, kernel_modulation=False, **kwargs):
        super().__init__(**kwargs)
        activate(0.0, activation)
        self.filters, self.kernel_size, self.demodulate = int(filters), int(kernel_size), bool(demodulate)
        self.upsample, self.use_noise, self.activation = bool(upsample), bool(use_noise), activation
        self.fused, self.kernel_modulation = bool(fused), bool(kernel_modulation)

    @property
    def modulates_kernel(self):
        """Whether the kernel is modulated (scale/shift adaptation freezes the kernel and trains ``u``, ``v``)."""
        return self.kernel_modulation

    def build(self, input_shape):
        channels = int(input_shape[0][-1])
        self.kernel = self.add_weight(name="kernel", shape=(self.kernel_size, self.kernel_size, channels, self.filters),
                                      initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
        self.noise_strength = self.add_weight(name="noise_strength", shape=(), initializer="zeros") \
            if self.use_noise else None
        self.style_gain = 1.0 if self.demodulate else 1.0 / math.sqrt(channels * self.kernel_size ** 2)
        if self.kernel_modulation:  # u small and random, v zero: 1 + u v^T starts at exactly 1 and v can move
            self.kernel_u = self.add_weight(name="kernel_u", shape=(channels,),
                                            initializer=keras.initializers.RandomNormal(stddev=0.01))
            self.kernel_v = self.add_weight(name="kernel_v", shape=(self.filters,), initializer="zeros")

    def folded_kernel(self):
        """The kernel with its rank-1 modulation applied: ``W * (1 + u v^T)`` (W itself without modulation)."""
        if not self.kernel_modulation:
            return self.kernel
        return self.kernel * (1.0 + self.kernel_u[:, None] * self.kernel_v[None, :])[None, None]

    def call(self, inputs):
        x, styles = inputs[0], inputs[1]
        if self.use_noise and len(inputs) < 3:
            raise ValueError(f"{self.name}: use_noise needs [x, styles, noise]")
        styles = ops.cast(styles, x.dtype) * self.style_gain
        kernel = ops.cast(self.folded_kernel(), x.dtype)
        if self.upsample:
            x = ops.image.resize(x, (2 * x.shape[1], 2 * x.shape[2]), interpolation="bilinear")
        demod = None
        if self.demodulate:  # 1 / ||W * style|| over (kernel, input) per sample and output channel
            squares = ops.sum(ops.square(kernel), axis=(0, 1))  # [in, out]
            demod = ops.rsqrt(ops.matmul(ops.square(styles), squares) + 1e-8)  # [batch, out]
        y = self._fused(x, styles, kernel, demod) if self.fused else self._scaled(x, styles, kernel, demod)
        if self.use_noise:
            y = y + ops.cast(inputs[2], y.dtype) * ops.cast(self.noise_strength, y.dtype)
        return activate(y + ops.cast(self.bias, y.dtype), self.activation)

    @staticmethod
    def _scaled(x, styles, kernel, demod):
        """The non-fused form: scale the activations before and after one shared convolution."""
        y = ops.conv(x * styles[:, None, None, :], kernel, padding="same")
        return y if demod is None else y * demod[:, None, None, :]

    @staticmethod
    def _fused(x, styles, kernel, demod):
        """The fused form: one grouped convolution with a kernel per sample (``W * style * demod``)."""
        b, h, w, c = ops.shape(x)[0], x.shape[1], x.shape[2], x.shape[3]
        k, out = kernel.shape[0], kernel.shape[-1]
        kernels = kernel[None] * styles[:, None, None, :, None]  # [b, k, k, in, out]
        if demod is not None:
            kernels = kernels * demod[:, None, None, None, :]
        kernels = ops.reshape(ops.transpose(kernels, (1, 2, 3, 0, 4)), (k, k, c, -1))  # [k, k, in, b * out]
        grouped = ops.reshape(ops.transpose(x, (1, 2, 0, 3)), (1, h, w, -1))  # [1, h, w, b * in]
        y = ops.conv(grouped, kernels, padding="same")  # b groups of in -> out
        return ops.transpose(ops.reshape(y, (h, w, b, out)), (2, 0, 1, 3))

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape[0]
        scale = 2 if self.upsample else 1
        return (b, None if h is None else h * scale, None if w is None else w * scale, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "demodulate": self.demodulate, "upsample": self.upsample, "use_noise": self.use_noise,
                "activation": self.activation, "fused": self.fused, "kernel_modulation": self.kernel_modulation}
