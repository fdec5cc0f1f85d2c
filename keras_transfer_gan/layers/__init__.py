"""Building blocks shared by architectures and transfer methods."""

from keras_transfer_gan.layers.affine_adaptor import AffineAdaptor
from keras_transfer_gan.layers.constant_input import ConstantInput
from keras_transfer_gan.layers.equalized_conv2d import EqualizedConv2D
from keras_transfer_gan.layers.equalized_dense import EqualizedDense
from keras_transfer_gan.layers.minibatch_std import MinibatchStd
from keras_transfer_gan.layers.modulated_conv2d import ModulatedConv2D
from keras_transfer_gan.layers.modulated_conv2d_transpose import ModulatedConv2DTranspose
from keras_transfer_gan.layers.second_moment_norm import SecondMomentNorm
from keras_transfer_gan.layers.sinusoidal_embedding import SinusoidalEmbedding
from keras_transfer_gan.layers.w_average import WAverage

__all__ = ["AffineAdaptor", "ConstantInput", "EqualizedConv2D", "EqualizedDense", "MinibatchStd", "ModulatedConv2D", "ModulatedConv2DTranspose",
           "SecondMomentNorm", "SinusoidalEmbedding", "WAverage"]
