"""Class-conditional GAN: ACGAN (auxiliary classifier) or projection discriminator."""

import math

import keras
import tensorflow as tf

from keras_transfer_gan.models.architecture import tensor_spec
from keras_transfer_gan.models.dcgan import DCGAN, build_dcgan_decoder, build_dcgan_features, dcgan_init
from keras_transfer_gan.models.gan import GAN_TINY, SMALL_FILTERS, SYNC_BN
from keras_transfer_gan.models.inputs import class_labels
from keras_transfer_gan.registry import register_model
from keras_transfer_gan.utils.checks import check_choice, check_positive_int

MODES = ("acgan", "projection")


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class ConditionalGAN(DCGAN):
    """A GAN whose generator and discriminator see the class label.

    The generator concatenates the noise with a learned label embedding
    (``g_label_embedding``) before the DCGAN decoder. The discriminator is the
    DCGAN body with either

    - ``mode="acgan"`` (Odena et al., 2017): an auxiliary classifier head
      ``d_class_logits``; D learns to classify real and fake images and G to
      make its images classify as asked (weight `class_weight`), or
    - ``mode="projection"`` (Miyato & Koyama, 2018): the logit gets
      ``<embed(y), features>`` from ``d_label_projection``.

    Batches are ``(images, labels)`` (``load_dataset(..., labels=True)``); the
    fake images of a step use the real batch's labels.

    Args:
        num_classes: int. Number of classes. Defaults to 10.
        mode: str. ``"acgan"`` or ``"projection"``. Defaults to ``"acgan"``.
        class_weight: float. Weight of the ACGAN classification losses. Defaults to 1.
        latent_dim, image_size, channels, g_filters, d_filters, spectral_norm,
        sync_batchnorm, ema_decay, seed: as for `DCGAN`.

    Example:
    >>> model = ConditionalGAN(num_classes=10, latent_dim=16, image_size=16, g_filters=8, d_filters=8)
    >>> model.generate(4, labels=[0, 1, 2, 3]).shape
    (4, 16, 16, 1)
    """

    consumes = "labelled_images"
    conditions = "labels"
    transfer_heads = {**DCGAN.transfer_heads, "g_label_embedding": "class_rows", "d_class_logits": "class_columns",
                      "d_label_projection": "class_rows"}
    config_fields = ("num_classes", "mode", "class_weight")

    def __init__(self, num_classes=10, mode="acgan", class_weight=1.0, **kwargs):
        """`num_classes`, `mode` and `class_weight`; every other argument is DCGAN's (`DCGAN.__init__`)."""
        check_positive_int(num_classes, "num_classes", "ConditionalGAN", minimum=2)
        check_choice(mode, "mode", "ConditionalGAN", MODES)
        if class_weight < 0 or not math.isfinite(class_weight):
            raise ValueError(f"ConditionalGAN: class_weight must be >= 0, got {class_weight!r}")
        self.num_classes = num_classes
        self.mode = mode
        self.class_weight = float(class_weight)
        super().__init__(**kwargs)

    @property
    def extra_metrics(self):
        return ("d_class", "g_class", "class_acc") if self.mode == "acgan" else ()

    def build_generator(self):
        z = keras.Input((self.latent_dim,), name="z")
        label = keras.Input((), dtype="int32", name="label")
        embedded = keras.layers.Embedding(self.num_classes, self.latent_dim, name="g_label_embedding")(label)
        x = keras.layers.Concatenate(name="g_condition")([z, embedded])
        images = build_dcgan_decoder(x, self.image_size, self.channels, self.g_filters, self.sync_batchnorm,
                                     self.modulated_kernels)
        return keras.Model([z, label], images, name="generator")

    def build_discriminator(self):
        n_down = int(math.log2(self.image_size // 4))
        image = keras.Input(self.image_shape, name="image")
        features = build_dcgan_features(
            image, self.d_filters, n_down, self.spectral_norm, "batch", self.sync_batchnorm
        )

        def dense(units, name):
            layer = keras.layers.Dense(units, kernel_initializer=dcgan_init(), name=name)
            return keras.layers.SpectralNormalization(layer, name=f"{name}_sn") if self.spectral_norm else layer

        logits = dense(1, "d_logits")(features)
        if self.mode == "acgan":
            class_logits = dense(self.num_classes, "d_class_logits")(features)
            class_logits = keras.layers.Activation("linear", dtype="float32", name="d_class_f32")(class_logits)
            logits = keras.layers.Activation("linear", dtype="float32", name="d_logits_f32")(logits)
            return keras.Model(image, [logits, class_logits], name="discriminator")
        label = keras.Input((), dtype="int32", name="label")
        embedded = keras.layers.Embedding(
            self.num_classes, int(features.shape[-1]), name="d_label_projection"
        )(label)
        projection = keras.layers.Dot(axes=-1, name="d_projection")([embedded, features])
        logits = keras.layers.Add(name="d_logits_plus_projection")([logits, projection])
        logits = keras.layers.Activation("linear", dtype="float32", name="d_logits_f32")(logits)
        return keras.Model([image, label], logits, name="discriminator")

    # ----------------------------------------------------------------- hooks
    def _labels(self, labels):
        if labels is None:
            raise ValueError(
                "ConditionalGAN trains on (images, labels) batches: load the data with labels=True"
            )
        return tf.cast(tf.reshape(labels, [-1]), tf.int32)

    def generator_inputs(self, z, labels, real):
        return [z, self._labels(labels)]

    def discriminator_outputs(self, images, labels, training):
        if self.mode == "acgan":
            logits, class_logits = self.discriminator(images, training=training)
            return logits, class_logits
        return self.discriminator([images, self._labels(labels)], training=training), None

    def _class_loss(self, labels, class_logits):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=self._labels(labels), logits=tf.cast(class_logits, tf.float32)
        )

    def d_auxiliary_loss(self, real, fake, labels, real_aux, fake_aux):
        if self.mode != "acgan":
            return None, {}
        per_example = self._class_loss(labels, real_aux) + self._class_loss(labels, fake_aux)
        correct = tf.equal(tf.argmax(real_aux, -1, output_type=tf.int32), self._labels(labels))
        return self.class_weight * per_example, {
            "d_class": tf.reduce_mean(per_example),
            "class_acc": tf.reduce_mean(tf.cast(correct, tf.float32)),
        }

    def g_auxiliary_loss(self, fake, real, labels, fake_aux):
        if self.mode != "acgan":
            return None, {}
        per_example = self._class_loss(labels, fake_aux)
        return self.class_weight * per_example, {"g_class": tf.reduce_mean(per_example)}

    # ------------------------------------------------------------- sampling

    def classify(self, images):
        """The ACGAN head's class probabilities for images in [-1, 1] (numpy)."""
        if self.mode != "acgan":
            raise ValueError("classify: only mode='acgan' has a classifier head")
        _, class_logits = self.discriminator(tf.convert_to_tensor(images, tf.float32), training=False)
        return keras.ops.convert_to_numpy(tf.nn.softmax(class_logits))

    def class_probabilities(self, images):
        """The ACGAN head's class probabilities (`classify`)."""
        return self.classify(images)

    def sample(self, n, conditions=None, seed=None, **options):
        """`n` images of the classes in `conditions` (labels), or cycling through the classes."""
        return self.generate(n, labels=conditions, seed=seed)

    def _condition_spec(self, batch_size):
        return tensor_spec([batch_size], tf.int32, "labels")

    def generate(self, n_or_z, labels=None, seed=None, batch_size=256):
        """Sample images of given classes.

        Args:
            n_or_z: int or noise ``(n, latent_dim)``, as for `GAN.generate`.
            labels: int array ``(n,)`` in ``[0, num_classes)``, or None to
                cycle through the classes (0, 1, ..., 0, 1, ...).
            seed, batch_size: as for `GAN.generate`.
        """
        z = self._noise(n_or_z, seed)
        try:
            labels = class_labels(labels, int(z.shape[0]), self.num_classes)
        except ValueError as exc:
            raise ValueError(f"generate: {exc}") from None
        return self._run_sampler([z, labels], batch_size, seed)


register_model("acgan", lambda **kw: ConditionalGAN(**{"mode": "acgan", **kw}),
               "ACGAN: label-conditioned G, D with an auxiliary classifier head", tiny=GAN_TINY,
               distributed=SYNC_BN, model_class=ConditionalGAN,
               short_run=dict(dataset="digits", epochs=10, model_args=SMALL_FILTERS))
register_model("cgan", lambda **kw: ConditionalGAN(**{"mode": "projection", **kw}),
               "Conditional GAN with a projection discriminator", tiny=GAN_TINY, distributed=SYNC_BN,
               model_class=ConditionalGAN, short_run=dict(dataset="digits", epochs=10, model_args=SMALL_FILTERS))
