"""A small convolutional image classifier: the offline metric extractor and the transfer recipes' backbone."""

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.models.architecture import Signature, tensor_spec
from keras_transfer_gan.models.inputs import unpack_batch
from keras_transfer_gan.models.single_optimizer_model import SingleOptimizerModel
from keras_transfer_gan.registry import register_model
from keras_transfer_gan.utils.checks import check_choice, check_positive_int


def build_classifier_backbone(image_size, channels, filters, blocks, name="backbone"):
    """Image [-1, 1] -> [Conv + BN + ReLU, Conv stride 2 + BN + ReLU]* -> global average pool.

    Layer names: ``c_block{i}_conv{1,2}`` / ``_bn{1,2}`` / ``_relu{1,2}`` and
    ``c_pool``; the pooled vector is the feature used by metrics.
    """
    image = keras.Input((image_size, image_size, channels), name="images")
    x = image
    for i in range(1, blocks + 1):
        width = filters * 2 ** (i - 1)
        for j, stride in ((1, 1), (2, 2)):
            x = keras.layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False,
                                    name=f"c_block{i}_conv{j}")(x)
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"c_block{i}_bn{j}")(x)
            x = keras.layers.ReLU(name=f"c_block{i}_relu{j}")(x)
    features = keras.layers.GlobalAveragePooling2D(name="c_pool")(x)
    return keras.Model(image, features, name=name)


def build_classifier_head(feature_dim, num_classes, dropout, name="classifier_head"):
    """Features -> Dropout -> Dense logits (``c_logits``)."""
    features = keras.Input((feature_dim,), name="features")
    x = keras.layers.Dropout(dropout, name="c_dropout")(features) if dropout else features
    logits = keras.layers.Dense(num_classes, name="c_logits")(x)
    return keras.Model(features, logits, name=name)


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class ImageClassifier(SingleOptimizerModel):
    """Backbone + head classifier with its own distribution-aware `train_step`.

    `call` returns class probabilities (softmax of the head's logits);
    `features` returns the backbone's pooled vector, which is what FID, KID and
    precision/recall read when this model is the extractor. The backbone is a
    sub-model named ``backbone`` (or any Keras model mapping images to a
    vector, e.g. a GAN's discriminator body), the head one named
    ``classifier_head``, so `freeze(model, pattern="backbone/*")` freezes the
    body and `carry_weights` carries a change of class count.

    Args:
        num_classes: int >= 2. Defaults to 10.
        image_size: int. Defaults to 32.
        channels: int. 1 or 3. Defaults to 1.
        filters: int. Width of the first block. Defaults to 32.
        blocks: int. Conv blocks, each halving the resolution. Defaults to 3.
        dropout: float. Dropout before the head. Defaults to 0.2.
        backbone: None (build the conv body) or a `keras.Model` from images
            to a feature vector (taken as given).
        label_smoothing: float. Defaults to 0.
        seed: int. Unused by the model itself; kept for the CLI's uniform
            constructor arguments. Defaults to 0.

    Example:
    >>> clf = ImageClassifier(num_classes=10, image_size=16, filters=8, blocks=2)
    >>> clf(np.zeros((2, 16, 16, 1), "float32")).shape
    TensorShape([2, 10])
    """

    optimizer_defaults = {"learning_rate": 1e-3, "beta_1": 0.9}
    family = "classifier"
    consumes = "labelled_images"
    transfer_heads = {"c_block1_conv1": "input_channels", "c_logits": "class_columns"}
    config_fields = ("num_classes", "image_size", "channels", "filters", "blocks", "dropout", "label_smoothing",
                     "seed")

    def __init__(self, num_classes=10, image_size=32, channels=1, filters=32, blocks=3, dropout=0.2,
                 backbone=None, label_smoothing=0.0, seed=0, **kwargs):
        super().__init__(**kwargs)
        check_positive_int(num_classes, "num_classes", "ImageClassifier", minimum=2)
        check_choice(channels, "channels", "ImageClassifier", (1, 3))
        if isinstance(backbone, dict):
            backbone = keras.saving.deserialize_keras_object(backbone)
        self.num_classes = num_classes
        self.image_size = image_size
        self.channels = channels
        self.filters = filters
        self.blocks = blocks
        self.dropout = dropout
        self.label_smoothing = label_smoothing
        self.seed = seed
        self._backbone_arg = backbone
        self.backbone = backbone if backbone is not None else build_classifier_backbone(
            image_size, channels, filters, blocks)
        feature_dim = int(self.backbone.output.shape[-1])
        self.head = build_classifier_head(feature_dim, num_classes, dropout)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "accuracy")}
        self.built = True

    @property
    def image_shape(self):
        return (self.image_size, self.image_size, self.channels)

    def logits(self, images, training=False):
        return self.head(self.backbone(images, training=training), training=training)

    def call(self, images, training=False):
        """Class probabilities for images in [-1, 1]."""
        return tf.nn.softmax(tf.cast(self.logits(images, training=training), tf.float32), axis=-1)

    def features(self, images, batch_size=256):
        """The backbone's pooled features, as a NumPy array (computed in batches)."""
        images = self._images(images)
        return np.concatenate([self.backbone(images[i:i + batch_size], training=False).numpy()
                               for i in range(0, len(images), batch_size)] or [np.zeros((0, 1))])

    def predict_classes(self, images, batch_size=256):
        """Argmax class of each image, as int32."""
        images = self._images(images)
        out = [np.argmax(self(images[i:i + batch_size]).numpy(), axis=-1) for i in range(0, len(images), batch_size)]
        return np.concatenate(out).astype(np.int32) if out else np.zeros((0,), np.int32)

    def _images(self, images):
        try:
            images = np.asarray(images, np.float32)
        except (TypeError, ValueError):
            raise ValueError(f"images must be numeric arrays in [-1, 1], got {np.asarray(images).dtype}") from None
        if images.ndim != 4 or images.shape[1:] != self.image_shape:
            raise ValueError(f"images must be shaped (n, {', '.join(map(str, self.image_shape))}), "
                             f"got {images.shape}")
        return images

    def per_example_losses(self, images, labels):
        """Cross-entropy (with `label_smoothing`) per image; accuracy tracked beside it."""
        if labels is None:
            raise ValueError("ImageClassifier.train_step: batches must be (images, labels)")
        labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        logits = tf.cast(self.logits(images, training=True), tf.float32)
        per_example = keras.losses.categorical_crossentropy(
            tf.one_hot(labels, self.num_classes), logits, from_logits=True, label_smoothing=self.label_smoothing)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32)
        return per_example, {"loss": per_example, "accuracy": correct}

    def test_step(self, data):
        images, labels = unpack_batch(data)
        labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        logits = tf.cast(self.logits(images, training=False), tf.float32)
        per_example = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32)
        self.trackers["loss"].update_state(tf.reduce_mean(per_example))
        self.trackers["accuracy"].update_state(tf.reduce_mean(correct))
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        backbone = self._backbone_arg
        return {**super().get_config(),
                "backbone": None if backbone is None else keras.saving.serialize_keras_object(backbone)}

    # --------------------------------------------------------- architecture
    def feature_network(self):
        """The backbone: images to the pooled features metrics read."""
        return self.backbone

    def layer_groups(self):
        """The backbone (frozen while a new head trains) and the head (new for other classes)."""
        return {"backbone": [f"{self.backbone.name}/*"], "head": [self.head.name]}

    def class_probabilities(self, images):
        """Softmax probabilities, computed in batches (numpy)."""
        images = np.asarray(images, np.float32)
        return np.concatenate([self(images[i:i + 256]).numpy() for i in range(0, len(images), 256)])

    def serving_signatures(self, batch_size=None, seq_len=None):
        """``serving_default(images) -> probabilities``."""
        return {"serving_default": Signature(
            "serving_default", lambda images: {"probabilities": self(images, training=False)},
            [tensor_spec([batch_size, *self.image_shape], tf.float32, "images")], ("probabilities",))}


register_model("classifier", ImageClassifier,
               "Conv image classifier (backbone + head): metric extractor, pseudo-labeller, fine-tuning",
               tiny=dict(image_size=16, filters=8, blocks=2))
