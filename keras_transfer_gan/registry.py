"""The model registry: every architecture's entry, by name.

An entry is what the package knows of an architecture before a model exists:
its builder, one line of description, its tiny test configuration, its settings
for more than one replica, a short run for the gallery, and its zoo presets
(the checkpoints trained from it). Everything else an architecture declares
lives on its class (`models.Architecture`), ``consumes`` included. Each model's
own file registers it (``register_model(...)`` at its end, as timm's
``@register_model``); this module imports no model. Adding an architecture is
its file (or folder) in ``models/`` plus its import line in ``models/__init__.py``.

Example:
>>> from keras_transfer_gan.registry import build_model, list_models
>>> "dcgan" in list_models()
True
>>> model = build_model("dcgan", image_size=16, latent_dim=16)
"""

import dataclasses
import importlib

from keras_transfer_gan import zoo

_REGISTRY = {}
CONSUMES = ("images", "labelled_images", "conditioning_images", "text")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered architecture.

    Attributes:
        name: the registry name.
        builder: `builder(**overrides) -> keras.Model`.
        description: one line for `list_models` tables.
        tiny: constructor arguments of a tiny test configuration.
        distributed: constructor arguments to use when training on more than
            one replica (e.g. synchronised batch norm).
        consumes: what its training batches hold: ``"images"``,
            ``"labelled_images"``, ``"conditioning_images"`` (images the
            generator also reads) or ``"text"``: the model class's declaration.
        short_run: the gallery's short training run: ``ktg train`` settings
            (``dataset``, ``epochs``, ``model_args``, ...).
        model_class: the class the builder returns: its class-level declarations
            (``family``, ``generates``, ``default_signature``, ...; `models.Architecture`)
            answer before any model is built.
    """

    name: str
    builder: callable
    description: str = ""
    tiny: dict = dataclasses.field(default_factory=dict)
    distributed: dict = dataclasses.field(default_factory=dict)
    consumes: str = "images"
    short_run: dict = dataclasses.field(default_factory=dict)
    model_class: type = None

    @property
    def inputs(self):
        """Deprecated name of `consumes`."""
        return self.consumes

    def training_data(self, spec, **kwargs):
        """Its training batches from a data spec (`data.training_data`, by what it consumes)."""
        from keras_transfer_gan.data.training_data import training_data

        return training_data(self.consumes, spec, **kwargs)

    @property
    def presets(self):
        """Names of the zoo checkpoints trained from this architecture (``create_model(name, pretrained=...)``)."""
        return [name for name in zoo.list_zoo() if zoo.zoo_config(name).get("model") == self.name]


def register_model(name, builder, description="", tiny=None, distributed=None, consumes=None, short_run=None,
                   model_class=None):
    """Register `builder(**overrides) -> keras.Model` (a class, or a function with its `model_class`) under `name`.

    Call it at the end of the model's own file. `consumes` is read from the class's declaration; give it only
    when the class decides it by its configuration (a property, as `VAE`'s with and without classes).
    """
    if name in _REGISTRY and getattr(_REGISTRY[name].builder, "__module__", None) != getattr(builder, "__module__", None):
        raise ValueError(f"register_model: {name!r} is already registered")
    model_class = model_class or (builder if isinstance(builder, type) else None)
    if model_class is None:
        raise ValueError(f"register_model: {name!r} needs model_class= (its builder is not a class)")
    declared = getattr(model_class, "consumes", None)
    if isinstance(declared, str):
        if consumes not in (None, declared):
            raise ValueError(f"register_model: {model_class.__name__} declares consumes={declared!r}, got {consumes!r}")
        consumes = declared
    if consumes not in CONSUMES:
        raise ValueError(f"register_model: consumes must be one of {CONSUMES}, got {consumes!r}")
    entry = ModelEntry(name, builder, description, dict(tiny or {}), dict(distributed or {}), consumes,
                       dict(short_run or {}), model_class)
    _REGISTRY[name] = entry
    return entry


def _load_models():
    """Import the models package (its ``__init__`` imports every model file, and each file registers itself)."""
    importlib.import_module("keras_transfer_gan.models")


def get_entry(name):
    """The `ModelEntry` for `name`; a ValueError lists the known names."""
    _load_models()
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]


def list_models():
    """Sorted names of every registered architecture."""
    _load_models()
    return sorted(_REGISTRY)


def build_model(name, tiny=False, replicas=1, **overrides):
    """Build a registered model from its entry.

    Args:
        name: str. A name from `list_models()`.
        tiny: bool. Start from the architecture's tiny test configuration.
        replicas: int. Replicas it will train on; above 1, the entry's
            `distributed` defaults apply (overrides still win).
        **overrides: constructor arguments.
    """
    entry = get_entry(name)
    config = dict(entry.tiny) if tiny else {}
    if replicas > 1:
        config.update(entry.distributed)
    config.update(overrides)
    try:
        return entry.builder(**config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"create_model({name!r}): {exc}") from None


def create_model(name, tiny=False, replicas=1, pretrained=None, **overrides):
    """Deprecated: `build_model`; for ``pretrained=``, use `keras_transfer_gan.create_model`."""
    if pretrained is not None:
        raise ValueError("registry.create_model: pretrained= is handled by keras_transfer_gan.create_model")
    return build_model(name, tiny=tiny, replicas=replicas, **overrides)
