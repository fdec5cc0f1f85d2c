"""Appearance-aware evaluators: a domain classifier's features beside the images' colour statistics.

A digit classifier trained over many background draws (the MNIST-M evaluator) is invariant to background by
its training objective: it scores gray digits as if they were MNIST-M. The appearance evaluator concatenates
its pooled features with colour statistics the classifier cannot discard: the mean and standard deviation of
each channel in each cell of a ``grid x grid`` layout, multiplied by `colour_weight`. The weight is chosen by
a rule on train images, never on the test split: the colour block's total variance equals the classifier
block's (`balanced_colour_weight`).
"""

import keras
import numpy as np

from keras_transfer_gan.metrics.feature_extractor import FeatureExtractor


def colour_statistics_model(image_size, channels, grid=4):
    """A Keras model from images to ``[grid * grid * channels]`` means then as many standard deviations."""
    if image_size % grid:
        raise ValueError(f"colour statistics: grid {grid} does not divide image size {image_size}")
    images = keras.Input((image_size, image_size, channels), name="images")
    pool = keras.layers.AveragePooling2D(image_size // grid)
    mean = pool(images)
    spread = keras.ops.sqrt(keras.ops.maximum(pool(images * images) - mean * mean, 1e-6))
    flat = keras.layers.Concatenate()([keras.layers.Flatten()(mean), keras.layers.Flatten()(spread)])
    return keras.Model(images, flat, name="colour_statistics")


def appearance_model(classifier, colour_weight, grid=4):
    """The classifier's feature network and the weighted colour statistics, concatenated."""
    size, channels = classifier.image_size, classifier.channels
    images = keras.Input((size, size, channels), name="images")
    features = classifier.feature_network()(images)
    colour = colour_statistics_model(size, channels, grid)(images)
    out = keras.layers.Concatenate()([features, keras.layers.Rescaling(colour_weight)(colour)])
    return keras.Model(images, out, name="appearance")


def appearance_extractor(classifier, colour_weight, grid=4, name=None):
    """A `FeatureExtractor` on `appearance_model` (the classifier's probabilities for the Inception Score)."""
    name = name or f"{classifier.name}-appearance"
    return FeatureExtractor(appearance_model(classifier, colour_weight, grid), classifier, classifier.image_size,
                            classifier.channels, name=f"{name}-w{colour_weight:g}-g{grid}")


def balanced_colour_weight(classifier, images, grid=4):
    """The weight giving the colour block the classifier block's total variance on `images` (train images)."""
    features = FeatureExtractor.from_classifier(classifier).features(images)
    colour = FeatureExtractor(colour_statistics_model(classifier.image_size, classifier.channels, grid),
                              name="colour_statistics").features(images)
    return float(np.sqrt(features.var(axis=0).sum() / colour.var(axis=0).sum()))
