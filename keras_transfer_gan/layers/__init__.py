"""Building blocks shared by architectures and transfer methods."""

from keras_transfer_gan.layers.modulated_conv2d_transpose import ModulatedConv2DTranspose

__all__ = ["ModulatedConv2DTranspose"]
