"""Registering the package's Keras classes as soon as Keras is loaded, without loading it ourselves.

`keras.models.load_model` finds a class of a `.keras` file only if the module defining it was imported
(its `@keras.saving.register_keras_serializable` ran). Importing `keras_transfer_gan` must make that true
and stay fast (no TensorFlow). So the package's import calls `register_when_keras_loads()`: if Keras (or
TensorFlow, whose `tf.keras` is Keras) is already imported, the model modules are imported at once; otherwise
an import hook waits for them to load, whoever imports them (`import keras`, `import tensorflow`, `tf.keras`,
our own modules such as `keras_transfer_gan.data`), and registers once the outermost of those imports has
finished.

Two ways the earlier one-shot hook lost the registration, and what this one does instead:
- TensorFlow's `__init__` calls `importlib.util.find_spec("keras")` to locate `tf.keras` without importing
  Keras. A hook that steps out on the first `find_spec("keras")` is spent on a look-up that never executes
  Keras. This hook acts only when a module is really executed, and stays until registration has happened.
- Keras and TensorFlow import each other. Registering while one of them is still half-initialised imports
  our models against a half-built `tensorflow` module. This hook counts the watched imports under way and
  registers only when none is left.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import threading

#: The modules whose import registers every serialisable class of the package.
MODULES = ("keras_transfer_gan.models", "keras_transfer_gan.layers")
#: Imports to wait for: once either has finished loading, Keras is loaded or loads without TensorFlow's help.
WATCHED = ("keras", "tensorflow")


def register_serializables():
    """Import the modules that define the package's Keras classes (idempotent)."""
    for name in MODULES:
        importlib.import_module(name)


class _AfterKeras(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it wraps the loaders of `keras` and `tensorflow` so that our classes register once
    the outermost of their imports has finished, then steps out of the import system."""

    def __init__(self):
        self._lock = threading.RLock()
        self._looking_up = threading.local()  # our own find_spec call below passes through sys.meta_path again
        self._loading = 0  # watched modules whose code is executing now

    def find_spec(self, fullname, path, target=None):
        if fullname not in WATCHED or getattr(self._looking_up, "active", False):
            return None
        self._looking_up.active = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._looking_up.active = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Registering(spec.loader, self)
        return spec

    def enter(self):
        with self._lock:
            self._loading += 1

    def leave(self, succeeded):
        with self._lock:
            self._loading -= 1
            if self._loading or not succeeded or self not in sys.meta_path:
                return
            sys.meta_path.remove(self)
        register_serializables()


class _Registering(importlib.abc.Loader):
    """Delegates to a watched module's own loader and tells the hook when its code starts and ends."""

    def __init__(self, loader, hook):
        self._loader = loader
        self._hook = hook

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # The module's own loader stays its loader for everything after the import (resources, reloads).
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._hook.enter()
        succeeded = False
        try:
            self._loader.exec_module(module)
            succeeded = True
        finally:
            self._hook.leave(succeeded)

    def __getattr__(self, name):  # get_resource_reader, is_package, ... of the real loader
        return getattr(self._loader, name)


def register_when_keras_loads():
    """Register now if Keras or TensorFlow is loaded; else once one is (see the module docstring)."""
    if any(name in sys.modules for name in WATCHED):
        register_serializables()
    elif not any(isinstance(finder, _AfterKeras) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterKeras())
