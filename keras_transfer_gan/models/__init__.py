"""The zoo's architectures. Importing this package registers them."""

from keras_transfer_gan.models.dcgan import DCGAN
from keras_transfer_gan.models.gan import GAN

__all__ = ["DCGAN", "GAN"]
