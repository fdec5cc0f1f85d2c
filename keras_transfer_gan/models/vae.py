"""Variational autoencoder (Kingma & Welling, 2014), optionally class-conditional (CVAE)."""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.losses import kl_divergence
from keras_transfer_gan.models.architecture import Signature, tensor_spec
from keras_transfer_gan.models.dcgan import build_dcgan_decoder
from keras_transfer_gan.models.ema import make_ema_copy
from keras_transfer_gan.models.gan import SIZES
from keras_transfer_gan.models.inputs import class_labels, prior_noise
from keras_transfer_gan.models.label_conditioned import LabelConditioned
from keras_transfer_gan.models.single_optimizer_model import SingleOptimizerModel
from keras_transfer_gan.registry import register_model
from keras_transfer_gan.utils.replicas import replica_slice


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class VAE(LabelConditioned, SingleOptimizerModel):
    """Convolutional VAE; with `num_classes` > 0, a conditional VAE.

    The encoder (strided convs ``e_block{i}_conv``, heads ``e_mean`` and
    ``e_log_var``) maps an image to a diagonal Gaussian; a sample drawn by
    reparameterisation goes through the decoder (the DCGAN decoder, tanh
    output in [-1, 1]). The loss per example is the summed squared error of
    the reconstruction plus ``beta`` times the KL divergence to N(0, I); both
    terms are tracked. A CVAE gives both networks the label: a learned
    per-pixel map as an extra encoder channel and an embedding concatenated
    to z.

    Args:
        latent_dim: int. Defaults to 32.
        image_size: int. 16, 32, 64 or 128. Defaults to 32.
        channels: int. 1 or 3. Defaults to 1.
        filters: int. Encoder width at the first block and decoder width at
            the last. Defaults to 32.
        num_classes: int. 0 for a VAE, >= 2 for a CVAE. Defaults to 0.
        beta: float. Weight of the KL term. Defaults to 1.
        ema_decay: float or None. EMA of the decoder's weights for sampling
            and export. Defaults to None.
        seed: int. Seeds the reparameterisation noise. Defaults to 0.

    Example:
    >>> vae = VAE(latent_dim=8, image_size=16, filters=8)
    >>> mean, log_var = vae.encode(np.zeros((2, 16, 16, 1), "float32"))
    """

    optimizer_defaults = {"learning_rate": 1e-3, "beta_1": 0.9}
    family = "vae"
    generates = "images"
    default_signature = "decode"
    transfer_heads = {"e_block1_conv": "input_channels", "g_out_deconv": "output_channels",
                      "e_label_map": "class_rows", "g_label_embedding": "class_rows"}
    config_fields = ("latent_dim", "image_size", "channels", "filters", "num_classes", "beta", "ema_decay", "seed")

    def __init__(
        self,
        latent_dim=32,
        image_size=32,
        channels=1,
        filters=32,
        num_classes=0,
        beta=1.0,
        ema_decay=None,
        seed=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if image_size not in SIZES:
            raise ValueError(f"VAE: image_size must be one of {SIZES}, got {image_size!r}")
        if channels not in (1, 3):
            raise ValueError(f"VAE: channels must be 1 or 3, got {channels!r}")
        if num_classes == 1 or num_classes < 0:
            raise ValueError(f"VAE: num_classes must be 0 (unconditional) or >= 2, got {num_classes!r}")
        if beta < 0 or not math.isfinite(beta):
            raise ValueError(f"VAE: beta must be >= 0, got {beta!r}")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"VAE: ema_decay must be in (0, 1), got {ema_decay!r}")
        self.latent_dim = latent_dim
        self.image_size = image_size
        self.channels = channels
        self.filters = filters
        self.num_classes = num_classes
        self.beta = float(beta)
        self.ema_decay = ema_decay
        self.seed = int(seed)
        self.encoder = self._build_encoder()
        self.decoder = self._build_decoder()
        self.decoder_ema = make_ema_copy(self.decoder) if ema_decay is not None else None
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction_loss", "kl_loss")
        }
        self.built = True

    @property
    def image_shape(self):
        return (self.image_size, self.image_size, self.channels)

    @property
    def conditional(self):
        return self.num_classes > 0

    def _build_encoder(self):
        size = self.image_size
        image = keras.Input((size, size, self.channels), name="image")
        inputs, x = [image], image
        if self.conditional:
            label = keras.Input((), dtype="int32", name="label")
            label_map = keras.layers.Embedding(self.num_classes, size * size, name="e_label_map")(label)
            label_map = keras.layers.Reshape((size, size, 1), name="e_label_reshape")(label_map)
            x = keras.layers.Concatenate(name="e_condition")([image, label_map])
            inputs.append(label)
        for i in range(1, int(math.log2(size // 4)) + 1):
            x = keras.layers.Conv2D(
                self.filters * 2 ** (i - 1), 4, strides=2, padding="same", name=f"e_block{i}_conv"
            )(x)
            x = keras.layers.LeakyReLU(0.2, name=f"e_block{i}_lrelu")(x)
        x = keras.layers.Flatten(name="e_flatten")(x)
        mean = keras.layers.Dense(self.latent_dim, name="e_mean", dtype="float32")(x)
        log_var = keras.layers.Dense(
            self.latent_dim, kernel_initializer="zeros", name="e_log_var", dtype="float32"
        )(x)
        return keras.Model(inputs if self.conditional else image, [mean, log_var], name="encoder")

    def _build_decoder(self):
        z = keras.Input((self.latent_dim,), name="z")
        inputs, x = z, z
        if self.conditional:
            label = keras.Input((), dtype="int32", name="label")
            embedded = keras.layers.Embedding(self.num_classes, self.latent_dim, name="g_label_embedding")(label)
            x = keras.layers.Concatenate(name="g_condition")([z, embedded])
            inputs = [z, label]
        images = build_dcgan_decoder(x, self.image_size, self.channels, self.filters)
        return keras.Model(inputs, images, name="decoder")

    # ------------------------------------------------------------- training
    def _with_labels(self, x, labels):
        if not self.conditional:
            return x
        if labels is None:
            raise ValueError("a conditional VAE needs labels: load the data with labels=True")
        return [x, tf.cast(tf.reshape(labels, [-1]), tf.int32)]

    def losses_per_example(self, images, labels, eps, training=False):
        """``(reconstruction, kl)`` per example for noise `eps` (used by `train_step`)."""
        mean, log_var = self.encoder(self._with_labels(images, labels), training=training)
        z = mean + tf.exp(0.5 * log_var) * eps
        reconstruction = self.decoder(self._with_labels(z, labels), training=training)
        squared = tf.square(tf.cast(images, tf.float32) - tf.cast(reconstruction, tf.float32))
        rec = tf.reduce_sum(tf.reshape(squared, [tf.shape(images)[0], -1]), axis=-1)
        return rec, kl_divergence(mean, log_var)

    def per_example_losses(self, images, labels):
        """Reconstruction + beta * KL per example, with noise keyed by (seed, step) and sliced per replica."""
        images = tf.cast(images, tf.float32)  # layers cast to their compute dtype; the loss stays float32
        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(self.optimizer.iterations, tf.int64)])
        eps = replica_slice(
            tf.shape(images)[0], lambda n: tf.random.stateless_normal([n, self.latent_dim], seed=seed)
        )
        rec, kl = self.losses_per_example(images, labels, eps, training=True)
        total = rec + self.beta * kl
        return total, {"loss": total, "reconstruction_loss": rec, "kl_loss": kl}

    def ema_pair(self):
        return self.decoder_ema, self.decoder

    # ------------------------------------------------------------ inference
    def call(self, inputs, training=False):
        """Decode: ``z`` (or ``[z, labels]`` for a CVAE) to images."""
        return self.sampler(inputs, training=training)

    def _check_labels(self, labels, n):
        if not self.conditional:
            if labels is not None:
                raise ValueError("labels given to an unconditional VAE")
            return None
        return class_labels(labels, n, self.num_classes)

    def _images(self, images):
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape.rank != 4 or tuple(images.shape[1:]) != (self.image_size, self.image_size, self.channels):
            raise ValueError(
                f"images must be shaped (n, {self.image_size}, {self.image_size}, {self.channels}), "
                f"got {tuple(images.shape)}"
            )
        return images

    def encode(self, images, labels=None):
        """``(mean, log_var)`` as numpy arrays ``(n, latent_dim)``."""
        images = self._images(images)
        labels = self._check_labels(labels, int(images.shape[0]))
        mean, log_var = self.encoder(images if labels is None else [images, labels], training=False)
        return keras.ops.convert_to_numpy(mean), keras.ops.convert_to_numpy(log_var)

    def decode(self, z, labels=None):
        """Images in [-1, 1] from latent codes ``(n, latent_dim)``."""
        z = tf.convert_to_tensor(z, tf.float32)
        if z.shape.rank != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must be shaped (n, {self.latent_dim}), got {tuple(z.shape)}")
        labels = self._check_labels(labels, int(z.shape[0]))
        out = self.sampler(z if labels is None else [z, labels], training=False)
        return keras.ops.convert_to_numpy(out).astype(np.float32)

    def reconstruct(self, images, labels=None):
        """Decode the posterior means of `images` (deterministic)."""
        mean, _ = self.encode(images, labels)
        return self.decode(mean, labels)

    def generate(self, n_or_z, labels=None, seed=None):
        """Decode prior samples: `n` (drawn from `seed`) or given ``z``."""
        return self.decode(prior_noise(n_or_z, self.latent_dim, self.seed if seed is None else seed), labels)

    # --------------------------------------------------------- architecture
    def feature_network(self):
        """Images to the encoder's posterior means (``e_mean``): an autoencoder's code, what FID reads when a
        VAE is a second evaluator of its domain (`metrics.SECOND_EXTRACTORS`). An unconditional VAE only."""
        if self.conditional:
            raise ValueError("VAE.feature_network: a conditional VAE's encoder needs labels; use an unconditional VAE")
        return keras.Model(self.encoder.inputs[0], self.encoder.get_layer("e_mean").output, name="vae_features")

    def sample(self, n, conditions=None, seed=None, **options):
        """`n` decoded prior samples; a CVAE's of the classes in `conditions` (or cycling through them)."""
        return self.generate(n, labels=conditions, seed=seed)

    def serving_signatures(self, batch_size=None, seq_len=None):
        """``encode(images[, labels]) -> mean, log_var``, ``decode(z[, labels]) -> images`` (also
        ``serving_default``) and ``reconstruct(images[, labels]) -> images``."""
        b, encoder, decoder = batch_size, self.encoder, self.sampler
        image_spec = tensor_spec([b, *self.image_shape], tf.float32, "images")
        z_spec = tensor_spec([b, self.latent_dim], tf.float32, "z")
        label_spec = [tensor_spec([b], tf.int32, "labels")] if self.conditional else []

        def encode(images, labels=None):
            mean, log_var = encoder(images if labels is None else [images, labels], training=False)
            return {"mean": tf.cast(mean, tf.float32), "log_var": tf.cast(log_var, tf.float32)}

        def decode(z, labels=None):
            return {"images": tf.cast(decoder(z if labels is None else [z, labels], training=False), tf.float32)}

        def reconstruct(images, labels=None):
            return decode(encode(images, labels)["mean"], labels)

        return {
            "encode": Signature("encode", encode, [image_spec, *label_spec], ("mean", "log_var")),
            "decode": Signature("decode", decode, [z_spec, *label_spec], ("images",)),
            "serving_default": Signature("serving_default", decode, [z_spec, *label_spec], ("images",)),
            "reconstruct": Signature("reconstruct", reconstruct, [image_spec, *label_spec], ("images",)),
        }


_VAE_TINY = dict(latent_dim=8, image_size=16, filters=8)
register_model("vae", VAE, "Convolutional VAE (reconstruction + beta * KL)", tiny=_VAE_TINY, consumes="images",
               short_run=dict(dataset="digits", epochs=10))
register_model("cvae", lambda **kw: VAE(**{"num_classes": 10, **kw}),
               "Conditional VAE: label map into the encoder, embedding into the decoder", tiny=_VAE_TINY,
               consumes="labelled_images", model_class=VAE, short_run=dict(dataset="digits", epochs=10))
