"""Data: built-in image data, TFDS, folders and arrays behind one `load_dataset`."""

from keras_transfer_gan.data.datasets import DatasetSpec, load_dataset, load_images, parse_spec

__all__ = ["DatasetSpec", "load_dataset", "load_images", "parse_spec"]
