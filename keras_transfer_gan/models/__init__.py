"""The zoo's architectures: Keras models that declare what they consume, sample and serve (`Architecture`).

Each model's file registers it in `keras_transfer_gan.registry` (its name, builder, tiny configuration,
gallery run; its zoo presets hang off the entry). Adding an architecture is its file or folder here plus one
import line below; nothing else in the package names it.
"""

from keras_transfer_gan.models.architecture import Architecture, Signature
from keras_transfer_gan.models.gan import GAN
from keras_transfer_gan.models.single_optimizer_model import SingleOptimizerModel

# One line per architecture: importing the file registers it.
from keras_transfer_gan.models.dcgan import DCGAN  # noqa: E402
from keras_transfer_gan.models.wgan_gp import WGANGP  # noqa: E402
from keras_transfer_gan.models.conditional_gan import ConditionalGAN  # noqa: E402
from keras_transfer_gan.models.vae import VAE  # noqa: E402
from keras_transfer_gan.models.lstm_text_generator import LSTMTextGenerator  # noqa: E402
from keras_transfer_gan.models.feature_backbone_generator import FeatureBackboneGenerator  # noqa: E402
from keras_transfer_gan.models.image_classifier import ImageClassifier  # noqa: E402
from keras_transfer_gan.models.stylegan2 import StyleGAN2  # noqa: E402
from keras_transfer_gan.models.ddim import DDIM  # noqa: E402

__all__ = ["Architecture", "ConditionalGAN", "DCGAN", "DDIM", "FeatureBackboneGenerator", "GAN", "ImageClassifier",
           "LSTMTextGenerator", "Signature", "SingleOptimizerModel", "StyleGAN2", "VAE", "WGANGP"]
