"""Registering the package's Keras classes as soon as Keras is loaded, without loading it ourselves.

`keras.models.load_model` finds a class of a `.keras` file only if the module defining it was imported
(its `@keras.saving.register_keras_serializable` ran). Importing `keras_transfer_gan` must make that true
and stay fast (no TensorFlow). So the package's import calls `register_when_keras_loads()`: if Keras is
already imported, the model modules are imported at once (Keras and TensorFlow are loaded, so this
costs only our modules); otherwise a one-shot import hook imports them right after Keras finishes
loading, whoever imports it (`import keras`, `tf.keras`, our own modules).
"""

import importlib
import importlib.abc
import importlib.util
import sys

#: The modules whose import registers every serialisable class of the package.
MODULES = ("keras_transfer_gan.models", "keras_transfer_gan.layers")


def register_serializables():
    """Import the modules that define the package's Keras classes (idempotent)."""
    for name in MODULES:
        importlib.import_module(name)


class _AfterKeras(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when `keras` is first imported, it wraps Keras' own loader so that our classes
    register right after Keras has loaded, then steps out of the import system."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            register_serializables()

        spec.loader.exec_module = exec_module
        return spec


def register_when_keras_loads():
    """Register now if Keras is loaded; else once it is (see the module docstring)."""
    if "keras" in sys.modules:
        register_serializables()
    elif not any(isinstance(finder, _AfterKeras) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterKeras())
