"""SHA-256 digests of arrays and of a model's weights: what content-keyed caches are keyed on."""

import hashlib

import numpy as np


def array_digest(*arrays, labels=()):
    """SHA-256 (hex) of arrays' shapes, dtypes and bytes, each preceded by its label when given."""
    digest = hashlib.sha256()
    for i, array in enumerate(arrays):
        array = np.ascontiguousarray(array)
        label = labels[i] if i < len(labels) else ""
        digest.update(f"{label}:{array.shape}:{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def weights_digest(model):
    """SHA-256 (hex) of a model's weights: their paths, shapes and values."""
    import keras

    weights = list(getattr(model, "weights", []))
    return array_digest(*(keras.ops.convert_to_numpy(w) for w in weights), labels=[w.path for w in weights])
