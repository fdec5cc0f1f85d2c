"""`ModulatedConv2DTranspose`: a transposed convolution whose frozen kernel is re-scaled and shifted per channel pair."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class ModulatedConv2DTranspose(keras.layers.Conv2DTranspose):
    """`Conv2DTranspose` with AdaFM-style kernel modulation (Zhao et al., 2020).

    The kernel ``W`` (shape ``(k, k, out, in)``) is frozen; two trainable
    tensors of shape ``(1, 1, out, in)`` modulate it per (output, input) channel
    pair: the effective kernel is ``scale * W + shift``. Starting from
    ``scale = 1, shift = 0`` it computes exactly what the plain layer did, and
    `folded_kernel` gives the kernel to put back into a plain `Conv2DTranspose`.
    The bias (if any) stays trainable. Takes `Conv2DTranspose`'s arguments.
    """

    #: Scale/shift adaptation freezes the kernel and trains the modulation.
    modulates_kernel = True

    def build(self, input_shape):
        super().build(input_shape)
        self.kernel.trainable = False
        shape = (1, 1, self.filters, int(self.kernel.shape[-1]))
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        self.shift = self.add_weight(name="shift", shape=shape, initializer="zeros")

    def folded_kernel(self):
        """``scale * W + shift``: the kernel of the equivalent plain layer."""
        return self.kernel * self.scale + self.shift

    def call(self, inputs):
        outputs = ops.conv_transpose(
            inputs, ops.cast(self.folded_kernel(), inputs.dtype), strides=list(self.strides), padding=self.padding,
            output_padding=self.output_padding, dilation_rate=self.dilation_rate, data_format=self.data_format,
        )
        if self.use_bias:
            shape = (1, 1, 1, self.filters) if self.data_format == "channels_last" else (1, self.filters, 1, 1)
            outputs = ops.add(outputs, ops.reshape(ops.cast(self.bias, outputs.dtype), shape))
        return self.activation(outputs) if self.activation is not None else outputs
