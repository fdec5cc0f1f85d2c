"""Loading pretrained models from every format: zoo names, `.keras`, `.weights.h5`, Keras 2 `.h5`, SavedModels."""

from keras_transfer_gan.transfer.loading.pretrained import EXPORT_METADATA, load_pretrained

__all__ = ["EXPORT_METADATA", "load_pretrained"]
