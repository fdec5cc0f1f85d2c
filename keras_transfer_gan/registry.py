"""The model registry: every architecture's entry, by name.

An entry is what the package knows of an architecture before a model exists:
its builder, one line of description, what its training data holds
(``consumes``), its tiny test configuration, its settings for more than one
replica, and a short run for the gallery. Everything else an architecture
declares lives on its class (`models.Architecture`). Adding an architecture
means writing its model file and registering it here.

Example:
>>> from keras_transfer_gan.registry import build_model, list_models
>>> "dcgan" in list_models()
True
>>> model = build_model("dcgan", image_size=16, latent_dim=16)
"""

import dataclasses

from keras_transfer_gan.data.training_data import training_data
from keras_transfer_gan.models import (
    DCGAN,
    VAE,
    WGANGP,
    ConditionalGAN,
    FeatureBackboneGenerator,
    ImageClassifier,
    LSTMTextGenerator,
)

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
            generator also reads) or ``"text"`` (the models declare the same).
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
        return training_data(self.consumes, spec, **kwargs)


def register_model(name, builder, description="", tiny=None, distributed=None, consumes="images", short_run=None,
                   model_class=None):
    """Register `builder(**overrides) -> keras.Model` (a class, or a function with its `model_class`) under `name`."""
    if name in _REGISTRY and getattr(_REGISTRY[name].builder, "__module__", None) != getattr(builder, "__module__", None):
        raise ValueError(f"register_model: {name!r} is already registered")
    if consumes not in CONSUMES:
        raise ValueError(f"register_model: consumes must be one of {CONSUMES}, got {consumes!r}")
    model_class = model_class or (builder if isinstance(builder, type) else None)
    if model_class is None:
        raise ValueError(f"register_model: {name!r} needs model_class= (its builder is not a class)")
    entry = ModelEntry(name, builder, description, dict(tiny or {}), dict(distributed or {}), consumes,
                       dict(short_run or {}), model_class)
    _REGISTRY[name] = entry
    return entry


def get_entry(name):
    """The `ModelEntry` for `name`; a ValueError lists the known names."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]


def list_models():
    """Sorted names of every registered architecture."""
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


def _char_lstm(vocabulary=None, **kwargs):
    if vocabulary is None:
        raise ValueError("char_lstm needs a vocabulary (Vocabulary.from_text(load_text(...)))")
    return LSTMTextGenerator(vocabulary, **kwargs)


_GAN_TINY = dict(latent_dim=16, image_size=16, g_filters=8, d_filters=8)
_SMALL = {"g_filters": 32, "d_filters": 32}
# Batch-norm moving averages are not all-reduced like gradients; global batch
# statistics keep them identical on every replica and worker.
_SYNC_BN = dict(sync_batchnorm=True)

register_model("dcgan", DCGAN, "DCGAN: transposed-conv generator, strided-conv discriminator (16/32/64/128 px)",
               tiny=_GAN_TINY, distributed=_SYNC_BN,
               short_run=dict(dataset="digits", epochs=10, model_args=_SMALL))
register_model("wgan_gp", WGANGP, "WGAN-GP: Wasserstein critic with gradient penalty, n_critic steps per G step",
               tiny=dict(_GAN_TINY, n_critic=2), distributed=_SYNC_BN,
               short_run=dict(dataset="digits", epochs=6, model_args=_SMALL))
register_model("acgan", lambda **kw: ConditionalGAN(**{"mode": "acgan", **kw}),
               "ACGAN: label-conditioned G, D with an auxiliary classifier head", tiny=_GAN_TINY,
               distributed=_SYNC_BN, consumes="labelled_images", model_class=ConditionalGAN,
               short_run=dict(dataset="digits", epochs=10, model_args=_SMALL))
register_model("cgan", lambda **kw: ConditionalGAN(**{"mode": "projection", **kw}),
               "Conditional GAN with a projection discriminator", tiny=_GAN_TINY, distributed=_SYNC_BN,
               consumes="labelled_images", model_class=ConditionalGAN, short_run=dict(dataset="digits", epochs=10, model_args=_SMALL))
register_model("vae", VAE, "Convolutional VAE (reconstruction + beta * KL)",
               tiny=dict(latent_dim=8, image_size=16, filters=8), short_run=dict(dataset="digits", epochs=10))
register_model("cvae", lambda **kw: VAE(**{"num_classes": 10, **kw}),
               "Conditional VAE: label map into the encoder, embedding into the decoder",
               tiny=dict(latent_dim=8, image_size=16, filters=8), consumes="labelled_images", model_class=VAE,
               short_run=dict(dataset="digits", epochs=10))
register_model("char_lstm", _char_lstm, "Character LSTM text generator (Embedding -> LSTM x2 -> Dense)",
               tiny=dict(embedding_dim=8, units=16), consumes="text", model_class=LSTMTextGenerator,
               short_run=dict(dataset="pydocs", epochs=3, seq_len=64, length=300, prompt="Return the "))
register_model("feature_generator", FeatureBackboneGenerator,
               "Generator on frozen pretrained VGG19 features (lambda * GAN + (1 - lambda) * reconstruction)",
               tiny=dict(backbone_weights=None, feature_blocks=2, image_size=32, latent_dim=16, g_filters=8,
                         d_filters=8),
               consumes="conditioning_images",
               # ImageNet weights cannot be downloaded on the build machines: VGG19 starts from random weights.
               short_run=dict(dataset="digits_m", epochs=6, model_args={"backbone_weights": None, **_SMALL}))
register_model("classifier", ImageClassifier,
               "Conv image classifier (backbone + head): metric extractor, pseudo-labeller, fine-tuning",
               tiny=dict(image_size=16, filters=8, blocks=2), consumes="labelled_images")
