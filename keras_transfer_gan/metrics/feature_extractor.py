"""`FeatureExtractor`: features (and class probabilities) of images from any Keras model, in batches."""

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.utils.digest import weights_digest
from keras_transfer_gan.utils.images import match_input


class FeatureExtractor:
    """Maps images in [-1, 1] to feature vectors (and, when it can, class probabilities).

    Images are resized to the extractor's input size and converted to its
    channel count before the model sees them: gray is repeated for a colour
    model. Colour images given to a gray model are, by default
    (``color_mode="per_channel"``), read one channel at a time and the three
    feature vectors concatenated, so the features (and FID/KID on them) see
    colour; ``"gray"`` averages the channels instead. Class probabilities
    always read the channel average.

    Args:
        model: a Keras model from images to feature vectors (a feature map is average-pooled).
        probabilities_model: optional Keras model from the same images to class
            probabilities (for the Inception Score).
        image_size: int. Input size of the model.
        channels: int. Input channels of the model.
        preprocess: callable on [-1, 1] images before the model (e.g. InceptionV3's, which also takes [-1, 1]).
        name: str. Names the cached reference statistics.
        color_mode: ``"per_channel"`` or ``"gray"`` (see above). Defaults to ``"per_channel"``.

    Example:
    >>> extractor = FeatureExtractor.from_classifier(load_pretrained("digits_classifier"))
    >>> features = extractor.features(images)
    """

    def __init__(self, model, probabilities_model=None, image_size=None, channels=None, preprocess=None,
                 name="custom", color_mode="per_channel"):
        if color_mode not in ("per_channel", "gray"):
            raise ValueError(f"FeatureExtractor: color_mode must be 'per_channel' or 'gray', got {color_mode!r}")
        if not callable(model):
            raise ValueError(f"FeatureExtractor: model must be a Keras model, got {type(model).__name__}")
        shape = getattr(model, "input_shape", None)
        self.model = model
        self.probabilities_model = probabilities_model
        self.image_size = image_size or (shape[1] if shape else None)
        self.channels = channels or (shape[-1] if shape else None)
        self.preprocess = preprocess
        self.color_mode = color_mode
        self.name = name if color_mode == "per_channel" else f"{name}-gray"
        self._cache_name = None

    @property
    def cache_name(self):
        """The name cached reference features are filed under: the extractor's name, colour mode and a digest
        of its feature network's weights, so that retraining an evaluator under the same name never mixes its
        old real features with new fake ones."""
        if self._cache_name is None:
            self._cache_name = f"{self.name}-{self.color_mode}-{weights_digest(self.model)[:12]}"
        return self._cache_name

    @classmethod
    def from_classifier(cls, classifier, name=None):
        """Pooled backbone features and softmax probabilities of an `ImageClassifier`."""
        return cls(classifier.feature_network(), classifier, classifier.image_size, classifier.channels,
                   name=name or f"classifier-{classifier.name}")

    @classmethod
    def inception(cls, weights="imagenet"):
        """InceptionV3 pool features (2048) and ImageNet probabilities at 299x299 (downloads the weights)."""
        full = keras.applications.InceptionV3(include_top=True, weights=weights)
        pool = keras.Model(full.input, full.get_layer("avg_pool").output)
        # keras.applications.inception_v3.preprocess_input maps [0, 255] to [-1, 1]: ours already are.
        return cls(pool, full, 299, 3, name="inception_v3")

    def _prepare(self, images):
        x = tf.convert_to_tensor(np.asarray(images, np.float32))
        if x.shape.rank != 4 or x.shape[-1] not in (1, 3):
            raise ValueError(f"FeatureExtractor: images must be shaped (n, h, w, 1 or 3), got {tuple(x.shape)}")
        x = match_input(x, self.image_size, self.channels)
        return self.preprocess(x) if self.preprocess else x

    def _run(self, model, images, batch_size, verbose, split_channels=False):
        images = np.asarray(images, np.float32)
        if len(images) == 0:
            raise ValueError("FeatureExtractor: no images")
        if split_channels and images.ndim == 4 and images.shape[-1] == 3 and self.channels == 1:
            return np.concatenate([self._run(model, images[..., c:c + 1], batch_size, verbose) for c in range(3)],
                                  axis=1)
        bar = keras.utils.Progbar(len(images), verbose=verbose) if verbose else None
        out = []
        for i in range(0, len(images), batch_size):
            value = model(self._prepare(images[i:i + batch_size]), training=False)
            value = np.asarray(keras.ops.convert_to_numpy(value), np.float64)
            if value.ndim == 4:
                value = value.mean(axis=(1, 2))
            out.append(value.reshape(len(value), -1))
            if bar:
                bar.add(len(value))
        return np.concatenate(out)

    def features(self, images, batch_size=256, verbose=0):
        """``(n, d)`` float64 features, computed in batches (`verbose=1` shows a progress bar)."""
        return self._run(self.model, images, batch_size, verbose, split_channels=self.color_mode == "per_channel")

    def probabilities(self, images, batch_size=256, verbose=0):
        """``(n, classes)`` class probabilities (needs `probabilities_model`)."""
        if self.probabilities_model is None:
            raise ValueError(f"FeatureExtractor {self.name!r} gives no class probabilities (the Inception "
                             "Score needs a classifier)")
        return self._run(self.probabilities_model, images, batch_size, verbose)
