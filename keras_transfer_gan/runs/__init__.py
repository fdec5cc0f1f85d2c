"""What each `ktg` command does, as library functions the CLI and the tools share.

Imported lazily, so that `ktg train` does not load what `ktg export` needs (start-up time).
"""

import importlib

_LAZY = {
    "evaluate_run": "keras_transfer_gan.runs.evaluate",
    "export_run": "keras_transfer_gan.runs.export",
    "load_source": "keras_transfer_gan.runs.outputs",
    "sample_run": "keras_transfer_gan.runs.outputs",
    "save_model": "keras_transfer_gan.runs.outputs",
    "write_samples": "keras_transfer_gan.runs.outputs",
    "train_run": "keras_transfer_gan.runs.train",
    "transfer_run": "keras_transfer_gan.runs.transfer",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_transfer_gan.runs' has no attribute {name!r}")
