"""What each `ktg` command does, as library functions the CLI and the tools share.

Imported lazily, so that `ktg train` does not load what `ktg export` needs (start-up time).
"""

from keras_transfer_gan.utils.lazy import lazy_getattr

_LAZY = {
    "evaluate_run": "keras_transfer_gan.runs.evaluate",
    "export_run": "keras_transfer_gan.runs.export",
    "load_source": "keras_transfer_gan.runs.outputs",
    "sample_run": "keras_transfer_gan.runs.outputs",
    "save_model": "keras_transfer_gan.runs.outputs",
    "write_samples": "keras_transfer_gan.runs.outputs",
    "study_run": "keras_transfer_gan.runs.study",
    "train_run": "keras_transfer_gan.runs.train",
    "transfer_run": "keras_transfer_gan.runs.transfer",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr("keras_transfer_gan.runs", _LAZY, globals())
