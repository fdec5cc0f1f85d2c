"""Loading pretrained models from every format: zoo names, `.keras`, `.weights.h5`, Keras 2 `.h5`, SavedModels;
and a frozen copy of a source's feature network (`feature_extractor`)."""

from keras_transfer_gan.transfer.loading.pretrained import EXPORT_METADATA, load_pretrained
from keras_transfer_gan.transfer.loading.source_features import feature_extractor

__all__ = ["EXPORT_METADATA", "feature_extractor", "load_pretrained"]
