"""A generator on the features of a frozen pretrained convolutional backbone (VGG19 by default)."""

import os

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.models.architecture import tensor_spec
from keras_transfer_gan.models.dcgan import DCGAN, build_dcgan_decoder, build_dcgan_discriminator
from keras_transfer_gan.models.gan import GAN, GAN_TINY, SMALL_FILTERS, SYNC_BN
from keras_transfer_gan.registry import register_model

# Caffe-style preprocessing that keras.applications' VGG19 expects: RGB in
# [0, 255] -> BGR minus the ImageNet channel means.
_IMAGENET_BGR_MEAN = np.array([103.939, 116.779, 123.68], np.float32)


def _caffe_preprocess_layer():
    """A fixed (non-trainable) 1x1 map from [-1, 1] RGB to mean-subtracted BGR in [0, 255] units."""
    layer = keras.layers.Dense(3, name="b_preprocess", trainable=False)
    flip = np.zeros((3, 3), np.float32)
    flip[0, 2] = flip[1, 1] = flip[2, 0] = 127.5  # RGB -> BGR and scale by 127.5
    bias = 127.5 - _IMAGENET_BGR_MEAN  # the +1 offset of [-1, 1] times 127.5, minus the mean
    return layer, [flip, bias]


def build_backbone(backbone, weights, image_size, feature_blocks):
    """The feature extractor: VGG19 cut after ``block{feature_blocks}_pool``, or a given Keras model."""
    if isinstance(backbone, keras.Model):
        return backbone
    if backbone != "vgg19":
        raise ValueError(f"FeatureBackboneGenerator: backbone must be 'vgg19' or a keras.Model, got {backbone!r}")
    if image_size < 32:
        raise ValueError(f"FeatureBackboneGenerator: VGG19 needs image_size 32 or more, got {image_size}")
    if not 1 <= feature_blocks <= 5:
        raise ValueError(f"FeatureBackboneGenerator: feature_blocks must be in 1..5, got {feature_blocks!r}")
    if weights not in (None, "imagenet") and not (isinstance(weights, str) and os.path.isfile(weights)):
        raise ValueError(f"FeatureBackboneGenerator: backbone_weights must be 'imagenet', None or a weights file, "
                         f"got {weights!r}")
    try:
        vgg = keras.applications.VGG19(include_top=False, weights=weights, input_shape=(image_size, image_size, 3))
    except Exception as exc:  # offline: a URL fetch error; a file of another architecture: a loading error
        what = "could not download VGG19's ImageNet weights" if weights == "imagenet" else \
            f"could not load VGG19 weights from {weights}"
        raise ValueError(f"FeatureBackboneGenerator: {what} ({type(exc).__name__}): pass backbone_weights=None "
                         "(random VGG19) or a VGG19 weights file (include_top=False)") from None
    return keras.Model(vgg.input, vgg.get_layer(f"block{feature_blocks}_pool").output, name="backbone")


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class FeatureBackboneGenerator(GAN):
    """G(z | backbone(x)): a generator reading a frozen pretrained backbone's features.

    The generator takes noise and a conditioning image, reads the image's
    features with the backbone (VGG19 from `keras.applications`, cut after
    block `feature_blocks`, or any Keras model), pools and projects them
    (``g_feature_pool``, ``g_feature_proj``), joins them with the noise and
    decodes with new dense/upsampling layers (the DCGAN decoder). The first
    `frozen_blocks` backbone blocks (layers named ``block{i}_...``; all layers
    of a backbone without such names) stay frozen; the rest fine-tune. A DCGAN discriminator
    judges the outputs. The generator's loss is
    ``adv_weight * L_GAN + (1 - adv_weight) * L_rec`` with L_rec the mean
    absolute error between the output and its conditioning image.

    Args:
        backbone: ``"vgg19"`` or a `keras.Model` mapping images ``[-1, 1]``
            shaped ``(size, size, 1 or 3)`` to a feature map or vector (gray
            and colour are converted to what it reads). Defaults to ``"vgg19"``.
        backbone_weights: ``"imagenet"`` (downloaded by Keras into its cache),
            None (random init) or the path of a VGG19 weights file
            (``include_top=False``; e.g. Keras' cached ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``,
            or a ``.weights.h5`` saved from ``keras.applications.VGG19(include_top=False)``). Defaults to
            ``"imagenet"``; offline, that is a one-line error saying to pass None or a file.
        feature_blocks: int. VGG19 blocks to keep (1-5). Defaults to 3.
        frozen_blocks: int or None. Blocks kept frozen; None freezes them all
            (as it does a backbone without ``block{i}_`` layer names).
        adv_weight: float in [0, 1]. lambda in the loss above. Defaults to 0.5.
        latent_dim, image_size, channels, g_filters, d_filters, spectral_norm,
            ema_decay, seed: as for `DCGAN` (image_size 32 or 64: VGG19 needs 32 pixels).

    Example:
    >>> model = FeatureBackboneGenerator(backbone_weights=None, feature_blocks=2, image_size=32,
    ...                                  latent_dim=16, g_filters=8, d_filters=8)
    """

    SUPPORTED_SIZES = (16, 32, 64, 128)  # VGG19 needs 32 or more; a given backbone may read 16
    consumes = "conditioning_images"
    conditions = "images"
    transfer_heads = DCGAN.transfer_heads
    #: Its D and the decoder after the backbone are DCGAN's builders: the same blocks and layers (no AdaFM).
    few_shot_methods = GAN.few_shot_methods + ("freeze_d", "cdc", "scale_shift")
    discriminator_blocks = DCGAN.discriminator_blocks
    cdc_layers = DCGAN.cdc_layers
    cdc_patch_layer = DCGAN.cdc_patch_layer
    scale_shift_layers = DCGAN.scale_shift_layers
    config_fields = ("feature_blocks", "frozen_blocks", "adv_weight", "g_filters", "d_filters", "spectral_norm")

    def __init__(
        self,
        backbone="vgg19",
        backbone_weights="imagenet",
        feature_blocks=3,
        frozen_blocks=None,
        adv_weight=0.5,
        latent_dim=100,
        image_size=32,
        channels=3,
        g_filters=64,
        d_filters=64,
        spectral_norm=False,
        **kwargs,
    ):
        if not 0.0 <= adv_weight <= 1.0:
            raise ValueError(f"FeatureBackboneGenerator: adv_weight must be in [0, 1], got {adv_weight!r}")
        if isinstance(backbone, dict):
            backbone = keras.saving.deserialize_keras_object(backbone)
        self._backbone_arg = backbone
        self.backbone_weights = backbone_weights
        self.feature_blocks = feature_blocks
        self.frozen_blocks = frozen_blocks
        self.adv_weight = float(adv_weight)
        self.g_filters = g_filters
        self.d_filters = d_filters
        self.spectral_norm = spectral_norm
        super().__init__(latent_dim=latent_dim, image_size=image_size, channels=channels, **kwargs)

    def _freeze_backbone(self, backbone):
        blocks = [layer for layer in backbone.layers if layer.name.startswith("block")]
        if self.frozen_blocks is None or not blocks:
            backbone.trainable = False
            return
        for layer in blocks:
            index = int(layer.name[len("block"):].split("_", 1)[0])
            layer.trainable = index > self.frozen_blocks

    def build_generator(self):
        size = self.image_size
        backbone = build_backbone(self._backbone_arg, self.backbone_weights, size, self.feature_blocks)
        self._freeze_backbone(backbone)
        z = keras.Input((self.latent_dim,), name="z")
        image = keras.Input(self.image_shape, name="condition")
        x = image
        wanted = int(backbone.input.shape[-1])
        if self.channels == 1 and wanted == 3:
            x = keras.layers.Concatenate(name="b_gray_to_rgb")([image, image, image])
        elif self.channels == 3 and wanted == 1:  # a gray backbone (e.g. a digits classifier) reads luminance
            layer = keras.layers.Dense(1, name="b_rgb_to_gray", trainable=False)
            x = layer(x)
            layer.set_weights([np.full((3, 1), 1.0 / 3.0, np.float32), np.zeros((1,), np.float32)])
        elif wanted != self.channels:
            raise ValueError(f"FeatureBackboneGenerator: the backbone reads {wanted} channels, images have {self.channels}")
        if self._backbone_arg == "vgg19":
            layer, weights = _caffe_preprocess_layer()
            x = layer(x)
            layer.set_weights(weights)
        features = backbone(x)
        # A feature map is pooled; a backbone that already gives a vector is used as is.
        pooled = keras.layers.GlobalAveragePooling2D(name="g_feature_pool")(features) if len(features.shape) == 4 \
            else keras.layers.Flatten(name="g_feature_pool")(features)
        projected = keras.layers.Dense(self.latent_dim, activation="relu", name="g_feature_proj")(pooled)
        joined = keras.layers.Concatenate(name="g_condition")([z, projected])
        images = build_dcgan_decoder(joined, size, self.channels, self.g_filters)
        return keras.Model([z, image], images, name="generator")

    def build_discriminator(self):
        return build_dcgan_discriminator(self.image_size, self.channels, self.d_filters, self.spectral_norm)

    @property
    def backbone(self):
        """The backbone: the one model nested in the generator."""
        return next(layer for layer in self.generator.layers if isinstance(layer, keras.Model))

    # ----------------------------------------------------------------- hooks
    def generator_inputs(self, z, labels, real):
        return [z, real]

    def g_auxiliary_loss(self, fake, real, labels, fake_aux):
        per_example = tf.reduce_mean(tf.abs(tf.cast(fake, tf.float32) - tf.cast(real, tf.float32)), axis=[1, 2, 3])
        return (1.0 - self.adv_weight) * per_example, {"rec_loss": tf.reduce_mean(per_example)}

    extra_metrics = ("rec_loss",)

    # ------------------------------------------------------------- sampling

    def generate(self, images, seed=None, batch_size=256):
        """Samples conditioned on `images` (one per image), noise drawn from `seed`."""
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape.rank != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(f"generate: images must be shaped (n, {', '.join(map(str, self.image_shape))}), "
                             f"got {tuple(images.shape)}")
        z = self._noise(int(images.shape[0]), seed)
        return self._run_sampler([z, images], batch_size, seed)

    def sample(self, n, conditions=None, seed=None, **options):
        """One sample per conditioning image (the first `n` of `conditions`, which are required)."""
        if conditions is None:
            raise ValueError("a feature-backbone generator needs conditioning images")
        return self.generate(np.asarray(conditions)[:n], seed=seed)

    def _condition_spec(self, batch_size):
        return tensor_spec([batch_size, *self.image_shape], tf.float32, "condition")

    def get_config(self):
        backbone = self._backbone_arg
        return {
            **super().get_config(),
            "backbone": backbone if isinstance(backbone, str) else keras.saving.serialize_keras_object(backbone),
            # The weights travel in the saved file; reloading must not download them again.
            "backbone_weights": None,
        }


register_model("feature_generator", FeatureBackboneGenerator,
               "Generator on frozen pretrained VGG19 features (lambda * GAN + (1 - lambda) * reconstruction)",
               tiny=dict(backbone_weights=None, feature_blocks=2, image_size=32, latent_dim=16, g_filters=8,
                         d_filters=8),
               # ImageNet weights cannot be downloaded on the build machines: VGG19 starts from random weights.
               short_run=dict(dataset="digits_m", epochs=6, model_args={"backbone_weights": None, **SMALL_FILTERS}))
