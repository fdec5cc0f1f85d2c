"""The zoo's architectures: Keras models that declare what they consume, sample and serve (`Architecture`).

Their registry names and entries are in `keras_transfer_gan.registry`.
"""

from keras_transfer_gan.models.architecture import Architecture, Signature
from keras_transfer_gan.models.conditional_gan import ConditionalGAN
from keras_transfer_gan.models.dcgan import DCGAN
from keras_transfer_gan.models.feature_backbone_generator import FeatureBackboneGenerator
from keras_transfer_gan.models.gan import GAN
from keras_transfer_gan.models.image_classifier import ImageClassifier
from keras_transfer_gan.models.lstm_text_generator import LSTMTextGenerator
from keras_transfer_gan.models.vae import VAE
from keras_transfer_gan.models.wgan_gp import WGANGP

__all__ = ["Architecture", "ConditionalGAN", "DCGAN", "FeatureBackboneGenerator", "GAN", "ImageClassifier",
           "LSTMTextGenerator", "Signature", "VAE", "WGANGP"]
