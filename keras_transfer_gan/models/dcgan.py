"""DCGAN (Radford et al., 2016) at 16, 32, 64 or 128 pixels, gray or colour."""

import math
import re

import keras

from keras_transfer_gan.layers import ModulatedConv2DTranspose
from keras_transfer_gan.models.gan import GAN, GAN_TINY, SMALL_FILTERS, SYNC_BN
from keras_transfer_gan.registry import register_model


def dcgan_init():
    """DCGAN's weight initialiser: N(0, 0.02)."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def _batch_norm(name, synchronized):
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, synchronized=synchronized, name=name)


def build_dcgan_generator(latent_dim, image_size, channels, filters, sync_batchnorm=False, name="generator",
                          modulated_kernels=False):
    """z (latent_dim,) -> `build_dcgan_decoder` -> image; a functional model named `name`."""
    z = keras.Input((latent_dim,), name="z")
    images = build_dcgan_decoder(z, image_size, channels, filters, sync_batchnorm, modulated_kernels)
    return keras.Model(z, images, name=name)


def build_dcgan_decoder(x, image_size, channels, filters, sync_batchnorm=False, modulated_kernels=False):
    """vector -> Dense 4x4 -> [ConvTranspose stride 2 + BN + ReLU]* -> tanh image tensor.

    Layer names: ``g_project``, ``g_up{i}_deconv`` / ``_bn`` / ``_relu``, ``g_out_deconv``. With
    `modulated_kernels`, the hidden transposed convolutions are `ModulatedConv2DTranspose` (a frozen
    kernel with trainable per-channel scale and shift, for scale/shift adaptation).
    """
    hidden_deconv = ModulatedConv2DTranspose if modulated_kernels else keras.layers.Conv2DTranspose
    n_up = int(math.log2(image_size // 4))
    top = filters * 2 ** (n_up - 1)
    x = keras.layers.Dense(4 * 4 * top, use_bias=False, kernel_initializer=dcgan_init(), name="g_project")(x)
    x = _batch_norm("g_project_bn", sync_batchnorm)(x)
    x = keras.layers.ReLU(name="g_project_relu")(x)
    x = keras.layers.Reshape((4, 4, top), name="g_reshape")(x)
    for i in range(1, n_up):
        x = hidden_deconv(
            top // 2**i, 4, strides=2, padding="same", use_bias=False,
            kernel_initializer=dcgan_init(), name=f"g_up{i}_deconv",
        )(x)
        x = _batch_norm(f"g_up{i}_bn", sync_batchnorm)(x)
        x = keras.layers.ReLU(name=f"g_up{i}_relu")(x)
    x = keras.layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", kernel_initializer=dcgan_init(), name="g_out_deconv"
    )(x)
    return keras.layers.Activation("tanh", dtype="float32", name="g_out_tanh")(x)


def _d_norm(kind, name, synchronized):
    if kind == "batch":
        return _batch_norm(f"{name}_bn", synchronized)
    if kind == "layer":
        return keras.layers.LayerNormalization(name=f"{name}_ln")
    return None


def build_dcgan_features(image, filters, n_down, spectral_norm=False, norm="batch", sync_batchnorm=False):
    """The discriminator's convolutional body: [Conv stride 2 (+ norm) + LeakyReLU] per block, flattened.

    Block i's layers are named ``d_block{i}_conv`` / ``_bn`` (or ``_ln``) /
    ``_lrelu``; `freeze` patterns and Freeze-D address them by these names.
    With `spectral_norm`, each conv is wrapped in `keras.layers.SpectralNormalization`
    and no normalisation layer is added.
    """
    x = image
    for i in range(1, n_down + 1):
        conv = keras.layers.Conv2D(
            filters * 2 ** (i - 1), 4, strides=2, padding="same",
            kernel_initializer=dcgan_init(), name=f"d_block{i}_conv",
        )
        if spectral_norm:
            conv = keras.layers.SpectralNormalization(conv, name=f"d_block{i}_sn")
        x = conv(x)
        layer = None if (i == 1 or spectral_norm) else _d_norm(norm, f"d_block{i}", sync_batchnorm)
        if layer is not None:
            x = layer(x)
        x = keras.layers.LeakyReLU(0.2, name=f"d_block{i}_lrelu")(x)
    return keras.layers.Flatten(name="d_flatten")(x)


def build_dcgan_discriminator(
    image_size, channels, filters, spectral_norm=False, sync_batchnorm=False, norm="batch",
    name="discriminator",
):
    """image -> `build_dcgan_features` -> Dense(1) logit (``d_logits``).

    `norm` is ``"batch"``, ``"layer"`` (for gradient penalties, which batch
    statistics would break) or ``"none"``.
    """
    n_down = int(math.log2(image_size // 4))
    image = keras.Input((image_size, image_size, channels), name="image")
    x = build_dcgan_features(image, filters, n_down, spectral_norm, norm, sync_batchnorm)
    dense = keras.layers.Dense(1, kernel_initializer=dcgan_init(), name="d_logits")
    if spectral_norm:
        dense = keras.layers.SpectralNormalization(dense, name="d_logits_sn")
    logits = dense(x)
    logits = keras.layers.Activation("linear", dtype="float32", name="d_logits_f32")(logits)
    return keras.Model(image, logits, name=name)


#: Normalisation layers: what scale/shift adaptation trains in a generator.
NORMALIZATION_LAYERS = (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                        keras.layers.GroupNormalization)


def dcgan_discriminator_blocks(discriminator):
    """The blocks of a `build_dcgan_features` body, from the input: the layer names of ``d_block{i}_*``."""
    blocks = {}
    for layer in discriminator.layers:
        if (match := re.match(r"d_block(\d+)_", layer.name)):
            blocks.setdefault(int(match.group(1)), []).append(layer.name)
    return [blocks[i] for i in sorted(blocks)]


def dcgan_cdc_layers(generator):
    """The output of every hidden block of a `build_dcgan_decoder` generator (``g_*_relu``)."""
    return [layer.name for layer in generator.layers if layer.name.startswith("g_") and layer.name.endswith("_relu")]


def dcgan_cdc_patch_layer(discriminator):
    """The last layer of the second-to-last block of a `build_dcgan_features` body (8x8 at 16 to 64 px; the only
    block of a one-block body)."""
    blocks = dcgan_discriminator_blocks(discriminator)
    return blocks[max(len(blocks) - 2, 0)][-1]


def dcgan_scale_shift_layers(generator, output_layer=True):
    """The normalisation layers and modulated kernels of a `build_dcgan_decoder` generator, plus its output
    layer (``g_out_*``) when `output_layer`."""
    return [layer.name for layer in generator.layers
            if isinstance(layer, (*NORMALIZATION_LAYERS, ModulatedConv2DTranspose))
            or (output_layer and layer.name.startswith("g_out"))]


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class DCGAN(GAN):
    """Deep convolutional GAN with configurable size, channels and widths.

    Args:
        latent_dim: int. Noise size. Defaults to 100.
        image_size: int. 16, 32, 64 or 128. Defaults to 32.
        channels: int. 1 or 3. Defaults to 1.
        g_filters: int. Generator width at the last upsampling block (doubles
            towards the input). Defaults to 64.
        d_filters: int. Discriminator width at the first block (doubles with
            depth). Defaults to 64.
        spectral_norm: bool. Spectral normalisation on D (no BN in D). Defaults to False.
        sync_batchnorm: bool. Batch statistics over all replicas, which makes a
            step independent of the replica count. Defaults to False.
        modulated_kernels: bool. Hidden transposed convolutions with frozen
            kernels and trainable per-channel scale/shift (AdaFM-style, for
            `adapt_scale_shift`); weights transfer from a plain DCGAN by name.
            Defaults to False.
        seed: int. Seeds the training noise. Defaults to 0.

    Example:
    >>> model = DCGAN(latent_dim=16, image_size=16, g_filters=8, d_filters=8)
    >>> model.generate(4).shape
    (4, 16, 16, 1)
    """

    #: D's first conv reads the image's channels; G's last transposed conv writes them.
    transfer_heads = {"d_block1_conv": "input_channels", "g_out_deconv": "output_channels"}
    few_shot_methods = GAN.few_shot_methods + ("freeze_d", "cdc", "scale_shift", "adafm")
    config_fields = ("g_filters", "d_filters", "spectral_norm", "sync_batchnorm", "modulated_kernels")

    def __init__(
        self,
        latent_dim=100,
        image_size=32,
        channels=1,
        g_filters=64,
        d_filters=64,
        spectral_norm=False,
        sync_batchnorm=False,
        modulated_kernels=False,
        seed=0,
        **kwargs,
    ):
        self.g_filters = g_filters
        self.d_filters = d_filters
        self.spectral_norm = spectral_norm
        self.sync_batchnorm = sync_batchnorm
        self.modulated_kernels = bool(modulated_kernels)
        super().__init__(latent_dim=latent_dim, image_size=image_size, channels=channels, seed=seed, **kwargs)

    def build_generator(self):
        return build_dcgan_generator(
            self.latent_dim, self.image_size, self.channels, self.g_filters, self.sync_batchnorm,
            modulated_kernels=self.modulated_kernels,
        )

    def build_discriminator(self):
        return build_dcgan_discriminator(
            self.image_size, self.channels, self.d_filters, self.spectral_norm, self.sync_batchnorm
        )

    # ------------------------------------------------ what transfer asks for
    def discriminator_blocks(self):
        return dcgan_discriminator_blocks(self.discriminator)

    def cdc_layers(self):
        return dcgan_cdc_layers(self.generator)

    def cdc_patch_layer(self):
        return dcgan_cdc_patch_layer(self.discriminator)

    def scale_shift_layers(self, output_layer=True):
        return dcgan_scale_shift_layers(self.generator, output_layer)


register_model("dcgan", DCGAN, "DCGAN: transposed-conv generator, strided-conv discriminator (16/32/64/128 px)",
               tiny=GAN_TINY, distributed=SYNC_BN, short_run=dict(dataset="digits", epochs=10, model_args=SMALL_FILTERS))
