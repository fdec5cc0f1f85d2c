"""Data: images behind one `load_dataset`, text behind `load_text`."""

from keras_transfer_gan.data.datasets import DatasetSpec, load_dataset, load_images, parse_spec
from keras_transfer_gan.data.text import load_text, text_dataset
from keras_transfer_gan.data.vocabulary import Vocabulary

__all__ = ["DatasetSpec", "Vocabulary", "load_dataset", "load_images", "load_text", "parse_spec", "text_dataset"]
