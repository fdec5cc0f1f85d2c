"""keras_transfer_gan: train generative models on small data by transfer, with Keras 3.

The public API is imported lazily, so `import keras_transfer_gan` does not load
TensorFlow; the CLI relies on this to set TensorFlow's environment first. The
package's Keras classes register themselves as soon as Keras is loaded
(`serializables`), so `keras.models.load_model` reads any `.keras` file the
package wrote once `keras_transfer_gan` has been imported.
"""


from keras_transfer_gan.serializables import register_when_keras_loads
from keras_transfer_gan.utils.lazy import lazy_getattr

__version__ = "0.1.0"
register_when_keras_loads()

_LAZY = {
    "create_model": "keras_transfer_gan.factory",
    "list_models": "keras_transfer_gan.registry",
    "register_model": "keras_transfer_gan.registry",
    "load_dataset": "keras_transfer_gan.data",
    "load_images": "keras_transfer_gan.data",
    "Trainer": "keras_transfer_gan.training",
    "get_strategy": "keras_transfer_gan.training",
    "compile_for_training": "keras_transfer_gan.training",
    "load_pretrained": "keras_transfer_gan.transfer",
}

__all__ = sorted(_LAZY) + ["__version__"]

__getattr__ = lazy_getattr("keras_transfer_gan", _LAZY, globals())


def __dir__():
    return __all__
