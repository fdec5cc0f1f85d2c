"""Export: SavedModel in TF Serving's layout (named signatures, atomic versions, warmup) and TFLite."""

from keras_transfer_gan.export.saved_model import export_saved_model, versions, write_models_config
from keras_transfer_gan.export.signatures import build_signatures
from keras_transfer_gan.export.tflite import export_tflite
from keras_transfer_gan.export.tflite_report import TFLiteReport
from keras_transfer_gan.export.warmup import read_warmup_requests, write_warmup_requests

__all__ = [
    "TFLiteReport",
    "build_signatures",
    "export_saved_model",
    "export_tflite",
    "read_warmup_requests",
    "versions",
    "write_models_config",
    "write_warmup_requests",
]
