"""The model registry: short builder functions registered by name.

Example:
>>> from keras_transfer_gan import create_model, list_models
>>> "dcgan" in list_models()
True
>>> model = create_model("dcgan", image_size=16, latent_dim=16)
"""

import dataclasses
import importlib

_REGISTRY = {}


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
        inputs: what it trains on: ``"images"``, ``"labelled_images"``,
            ``"conditioning_images"`` (generates from images) or ``"text"``.
    """

    name: str
    builder: callable
    description: str = ""
    tiny: dict = dataclasses.field(default_factory=dict)
    distributed: dict = dataclasses.field(default_factory=dict)
    inputs: str = "images"


INPUT_KINDS = ("images", "labelled_images", "conditioning_images", "text")


def register_model(name, description="", tiny=None, distributed=None, inputs="images"):
    """Decorator: register `builder(**overrides) -> keras.Model` under `name`."""

    def wrap(builder):
        if name in _REGISTRY and _REGISTRY[name].builder.__module__ != builder.__module__:
            raise ValueError(f"register_model: {name!r} is already registered")
        if inputs not in INPUT_KINDS:
            raise ValueError(f"register_model: inputs must be one of {INPUT_KINDS}, got {inputs!r}")
        _REGISTRY[name] = ModelEntry(
            name, builder, description, dict(tiny or {}), dict(distributed or {}), inputs
        )
        return builder

    return wrap


def _load_builtin_models():
    importlib.import_module("keras_transfer_gan.models")


def get_entry(name):
    """The `ModelEntry` for `name`; a ValueError lists the known names."""
    _load_builtin_models()
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]


def list_models():
    """Sorted names of every registered architecture."""
    _load_builtin_models()
    return sorted(_REGISTRY)


def create_model(name, tiny=False, replicas=1, pretrained=None, **overrides):
    """Build a registered model.

    Args:
        name: str. A name from `list_models()`.
        tiny: bool. Start from the architecture's tiny test configuration.
        replicas: int. Replicas it will train on; above 1, the entry's
            `distributed` defaults apply (overrides still win).
        pretrained: None, a zoo checkpoint name (``"dcgan_digits"``) or a
            model file: start from its weights (`load_pretrained`), with
            `overrides` rebuilding the heads that change.
        **overrides: constructor arguments.
    """
    entry = get_entry(name)
    if pretrained is not None:
        from keras_transfer_gan.transfer.loading import load_pretrained
        from keras_transfer_gan.zoo import is_zoo_name, zoo_config

        if is_zoo_name(pretrained) and zoo_config(pretrained).get("model") != name:
            raise ValueError(f"create_model({name!r}): zoo checkpoint {pretrained!r} is a "
                             f"{zoo_config(pretrained).get('model')!r} model")
        return load_pretrained(pretrained, **overrides)
    config = dict(entry.tiny) if tiny else {}
    if replicas > 1:
        config.update(entry.distributed)
    config.update(overrides)
    try:
        return entry.builder(**config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"create_model({name!r}): {exc}") from None
