"""Data: images behind one `load_dataset`, text behind `load_text`."""

from keras_transfer_gan.data import mnist_family
from keras_transfer_gan.data.datasets import (
    DatasetSpec,
    few_shot_split,
    load_dataset,
    load_images,
    parse_spec,
    reference_split,
)
from keras_transfer_gan.data.text import load_text, text_dataset
from keras_transfer_gan.data.training_data import TrainingData, training_data
from keras_transfer_gan.data.vocabulary import Vocabulary

__all__ = ["DatasetSpec", "TrainingData", "Vocabulary", "few_shot_split", "load_dataset", "load_images", "load_text",
           "mnist_family", "parse_spec", "reference_split", "text_dataset", "training_data"]
