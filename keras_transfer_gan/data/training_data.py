"""`training_data`: an architecture's training batches built from a data spec, by what it consumes."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_transfer_gan.data.datasets import load_dataset
from keras_transfer_gan.data.text import load_text, text_dataset
from keras_transfer_gan.data.vocabulary import Vocabulary


@dataclasses.dataclass
class TrainingData:
    """Batches for training, and what the data decides about the model.

    Attributes:
        dataset: the batched `tf.data.Dataset`.
        overrides: constructor arguments the data fixes (``image_size``,
            ``channels``, ``num_classes`` for labelled images, ``vocabulary`` for text).
        conditions: up to 64 images to sample from, for models that generate from images (else None).
    """

    dataset: object
    overrides: dict
    conditions: object = None


def training_data(consumes, spec, image_size=32, channels=None, batch_size=64, limit=None, seed=0, data_dir=None,
                  seq_len=64, vocab_size=None, drop_remainder=True):
    """Build the training batches of an architecture that consumes `consumes` from dataset spec `spec`.

    Args:
        consumes: ``"images"``, ``"labelled_images"``, ``"conditioning_images"`` or ``"text"`` (a
            `ModelEntry`'s or a model's declaration).
        spec: a dataset spec (`load_dataset`) or, for text, a corpus (`load_text`).
        image_size, channels, batch_size, limit, seed, data_dir: as for `load_dataset`.
        seq_len, vocab_size: text windows and the vocabulary's size cap.

    Returns:
        A `TrainingData`.
    """
    if consumes == "text":
        text = load_text(spec, data_dir=data_dir)
        vocabulary = Vocabulary.from_text(text, max_size=vocab_size)
        dataset = text_dataset(text, vocabulary, seq_len=seq_len, batch_size=batch_size, seed=seed)
        return TrainingData(dataset, {"vocabulary": vocabulary})
    labelled = consumes == "labelled_images"
    dataset = load_dataset(spec, image_size=image_size, channels=channels, batch_size=batch_size, limit=limit,
                           seed=seed, labels=labelled, drop_remainder=drop_remainder, data_dir=data_dir)
    image_spec = dataset.element_spec[0] if labelled else dataset.element_spec
    overrides = {"image_size": image_size, "channels": int(image_spec.shape[-1])}
    if labelled:
        overrides["num_classes"] = int(dataset.reduce(tf.constant(1), lambda m, b: tf.maximum(
            m, tf.reduce_max(b[1]) + 1)))
    conditions = None
    if consumes == "conditioning_images":
        conditions = np.concatenate([b.numpy() for b in dataset.take(-(-64 // batch_size))])[:64]
    return TrainingData(dataset, overrides, conditions)
