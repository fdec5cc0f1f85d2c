"""`Architecture`: what every registered architecture declares, so that callers ask instead of guessing.

The CLI, the tools, export, metrics, the transfer recipes and the test harness never test a model's class
or probe its attributes: they read these declarations and call these methods (in the manner of keras-hub's
tasks and the Model Garden's orbit tasks).

| declaration | meaning |
|---|---|
| ``family`` | a name: ``"gan"``, ``"vae"``, ``"text"``, ``"classifier"`` today; an open set (a new family names itself; tasks ask for what they need) |
| ``consumes`` | what training batches hold: ``"images"``, ``"labelled_images"``, ``"conditioning_images"`` (images that are also the generator's input) or ``"text"`` |
| ``conditions`` | what `sample` is conditioned on: None, ``"labels"`` (optional), ``"images"`` (required) or ``"prompt"`` |
| ``generates`` | ``"images"``, ``"text"`` or None |
| ``optimizer_slots`` | the optimizers a trainer builds and passes to `compile`, by keyword (any number: a GAN's ``d_optimizer``, ``g_optimizer`` and e.g. a mapping network's own) |
| ``optimizer_defaults`` | the trainers' optimizer settings, shared and per slot (``{"mapping_optimizer": {"lr_multiplier": 0.01}}``) |
| ``num_classes`` | classes of a conditional model or a classifier (0: none) |
| ``default_signature`` | the serving signature TFLite converts by default |
| ``transfer_heads`` | layer name -> how its weights are carried when a constructor argument changes: ``"input_channels"``, ``"output_channels"``, ``"class_rows"``, ``"class_columns"``, ``"vocabulary_rows"``, ``"vocabulary_columns"`` |
| ``sample_options`` | the keyword options its `sample` takes beyond the common ones (StyleGAN2's ``truncation``); `ktg sample` passes only these |
| ``few_shot_methods`` | the few-shot methods it supports (`FEW_SHOT_METHODS`); asking for another is a one-line error (`require_method`) |

| method | contract |
|---|---|
| ``sample(n, conditions=None, seed=None, **options)`` | n images in [-1, 1] (numpy), or n characters of text after a prompt |
| ``serving_signatures(batch_size=None, seq_len=None)`` | ``{name: Signature}``: named inputs and outputs for export |
| ``probe_inputs(signature, n=2, seed=0, images=None)`` | deterministic NumPy inputs for a signature (warmup, parity, calibration, tests) |
| ``feature_network()`` | a Keras model from images to feature vectors (transfer backbones) |
| ``class_probabilities(images)`` | class probabilities (pseudo-labels, metrics) |
| ``training_state()`` | the training settings' state a checkpoint must hold (ADA's p) |
| ``discriminator_blocks()`` | Freeze-D: the discriminator's blocks from its input, each a list of layer names |
| ``generator_blocks()`` | FreezeG: the generator's blocks from its input, each a list of layer names |
| ``cdc_layers()`` | CDC: the generator layers whose activations are compared |
| ``cdc_patch_layer()`` | CDC: the discriminator layer whose output its patch-level head reads |
| ``scale_shift_layers(output_layer)`` | scale/shift adaptation: the generator layers it trains |
| ``layer_groups()`` | named parts a recipe freezes or keeps (a classifier's backbone and head, a text model's embedding) |

Transfer asks for these instead of matching layer names, so a model whose layers are named otherwise (or a
generator without batch norm) declares its own; only `models/` knows its layers' names.
"""

import dataclasses

import numpy as np
import tensorflow as tf

HEAD_KINDS = ("input_channels", "output_channels", "class_rows", "class_columns", "vocabulary_rows",
              "vocabulary_columns")
#: The few-shot methods an architecture can declare (`few_shot_methods`), by the names `ktg transfer` uses.
FEW_SHOT_METHODS = ("freeze_d", "freeze_g", "l2_sp", "cdc", "ewc", "scale_shift", "adafm", "latent_adaptor", "lora",
                    "adapters")


@dataclasses.dataclass
class Signature:
    """One serving signature: ``fn(*inputs) -> {name: tensor}`` with its named input specs and output names."""

    name: str
    fn: object
    specs: list
    outputs: tuple


def tensor_spec(shape, dtype, name):
    """A named `tf.TensorSpec` (the name is the serving input's)."""
    return tf.TensorSpec(shape, dtype, name=name)


def to_uint8(images):
    """[-1, 1] float images to uint8 [0, 255], in the graph."""
    return tf.cast(tf.clip_by_value(tf.round((tf.cast(images, tf.float32) + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


class Architecture:
    """The declarations and methods every registered architecture provides (see the module docstring).

    A mixin for `keras.Model` subclasses: class attributes hold the defaults
    below; a subclass overrides what differs.
    """

    family = None
    consumes = "images"
    conditions = None
    generates = None
    optimizer_slots = ("optimizer",)
    #: Optimizer settings the trainers use (models never build optimizers): shared keys (``learning_rate``,
    #: ``beta_1``, ...) and, for a slot with its own, ``{slot: {"lr_multiplier": 0.01, ...}}``.
    optimizer_defaults = {}
    #: Classes a conditional model generates or tells apart (0: none).
    num_classes = 0
    default_signature = "serving_default"
    transfer_heads = {}
    few_shot_methods = ()
    #: Keyword options `sample` takes beyond ``n``, ``conditions`` and ``seed`` (e.g. ``("truncation",)``).
    sample_options = ()
    #: Whether `compile` takes ``augment=`` (an augmentation of the discriminator's input: DiffAugment, ADA).
    takes_augment = False
    #: Constructor arguments kept in attributes of the same name; `config_values` reads them back for
    #: `get_config` (a class lists its own; those of its bases are added).
    config_fields = ()

    def config_values(self):
        """``{argument: value}`` for every `config_fields` entry of this class and its bases."""
        names = dict.fromkeys(f for cls in reversed(type(self).__mro__) for f in vars(cls).get("config_fields", ()))
        return {name: getattr(self, name) for name in names}

    def sample(self, n, conditions=None, seed=None, **options):
        """Generated samples: ``n`` images (numpy, [-1, 1]) or ``n`` characters of text."""
        raise ValueError(f"{type(self).__name__} does not generate samples")

    def serving_signatures(self, batch_size=None, seq_len=None):
        """``{name: Signature}``; `batch_size` fixes the batch dimension (TFLite), `seq_len` a text input's length."""
        raise ValueError(f"export: no serving signatures for {type(self).__name__}")

    def feature_network(self):
        """A Keras model from images in [-1, 1] to feature vectors."""
        raise ValueError(f"{type(self).__name__} has no feature network")

    def class_probabilities(self, images):
        """Class probabilities (numpy) of images shaped like the model's input."""
        raise ValueError(f"{type(self).__name__} gives no class probabilities")

    @classmethod
    def implements(cls, method):
        """Whether the class gives its own `method` (``"feature_network"``, ``"class_probabilities"``, ...)
        rather than the base's refusal."""
        return getattr(cls, method, None) is not getattr(Architecture, method, None)

    def require_method(self, method):
        """Raise a one-line ValueError naming the model and `method` unless it is in `few_shot_methods`."""
        if method not in FEW_SHOT_METHODS:
            raise ValueError(f"unknown few-shot method {method!r} (choose from {', '.join(FEW_SHOT_METHODS)})")
        if method not in self.few_shot_methods:
            supported = ", ".join(self.few_shot_methods) or "none"
            raise ValueError(f"{type(self).__name__} does not support {method} (it supports: {supported})")

    def discriminator_blocks(self):
        """Freeze-D: ``[[layer name, ...] of block 1, [...] of block 2, ...]``, from the discriminator's input."""
        self.require_method("freeze_d")
        raise NotImplementedError(f"{type(self).__name__} declares freeze_d but not discriminator_blocks()")

    def generator_blocks(self):
        """FreezeG: ``[[layer name, ...] of block 1, ...]``, from the generator's input."""
        self.require_method("freeze_g")
        raise NotImplementedError(f"{type(self).__name__} declares freeze_g but not generator_blocks()")

    def cdc_layers(self):
        """CDC: names of the generator layers whose activations CDC compares."""
        self.require_method("cdc")
        raise NotImplementedError(f"{type(self).__name__} declares cdc but not cdc_layers()")

    def cdc_patch_layer(self):
        """CDC: the name of the discriminator layer (on the image-only path) whose output CDC's patch-level
        head reads, one logit per spatial position."""
        self.require_method("cdc")
        raise NotImplementedError(f"{type(self).__name__} declares cdc but not cdc_patch_layer()")

    def scale_shift_layers(self, output_layer=True):
        """Scale/shift adaptation: names of the generator layers it trains (the output layer too when asked)."""
        self.require_method("scale_shift")
        raise NotImplementedError(f"{type(self).__name__} declares scale_shift but not scale_shift_layers()")

    def layer_groups(self):
        """``{group: [layer path pattern, ...]}``: the parts a recipe freezes or keeps by name (a classifier's
        ``backbone`` and ``head``, a text model's ``embedding`` and ``first_lstm``), as `freeze(pattern=)` reads them."""
        return {}

    def layer_group(self, group):
        """The layer path patterns of `group`; a group the model does not declare is a one-line error."""
        groups = self.layer_groups()
        if group not in groups:
            raise ValueError(f"{type(self).__name__} declares no layer group {group!r} "
                             f"(it declares: {', '.join(groups) or 'none'})")
        return list(groups[group])

    def training_state(self):
        """``{name: trackable}``: training settings with state (e.g. ADA's probability) that checkpoints
        must hold besides the model and its optimizers, so a resumed run continues exactly."""
        return {}

    #: Scalar inputs of a signature and their probe values (counts default to the batch size `n`).
    PROBE_SCALARS = {"length": 12, "temperature": 0.0, "truncation": 1.0}

    def input_range(self, name):
        """``(low, high)``: the values an integer input `name` takes (labels: the classes; a timestep: its
        schedule's steps). A model with integer inputs of its own overrides this; the default is [0, 10)."""
        if name == "labels" and self.num_classes:
            return 0, self.num_classes
        return 0, 10

    def probe_inputs(self, signature, n=2, seed=0, images=None):
        """Deterministic NumPy inputs for `signature`: ``{input_name: array}``, by each spec's dtype and shape.

        Strings are the prompt ``"The "``; integer scalars a count (`n`, the `seed`, or `PROBE_SCALARS`);
        integer tensors values in the model's `input_range` (labels cycle through the classes); float
        scalars `PROBE_SCALARS` (a temperature of 0, a truncation of 1) or 1; rank-4 float tensors images,
        uniform in [-1, 1] (from `images` when given); other float tensors standard normal (noise).
        """
        rng = np.random.default_rng(seed)
        return {spec.name: self._probe(spec, [n if d is None else d for d in spec.shape], rng, n, seed, images)
                for spec in signature.specs}

    def _probe(self, spec, shape, rng, n, seed, images):
        dtype = tf.as_dtype(spec.dtype)
        if dtype == tf.string:
            return np.array(b"The ")
        if not shape:  # a scalar setting
            default = seed if spec.name == "seed" else self.PROBE_SCALARS.get(spec.name, n if dtype.is_integer else 1.0)
            return np.asarray(default, dtype.as_numpy_dtype)
        if dtype.is_integer:
            low, high = self.input_range(spec.name)
            if spec.name == "labels":
                return (np.arange(int(np.prod(shape))) % (high - low) + low).reshape(shape).astype(dtype.as_numpy_dtype)
            return rng.integers(low, high, shape).astype(dtype.as_numpy_dtype)
        if len(shape) == 4:
            if images is not None:
                return np.asarray(images[: shape[0]], np.float32)
            return rng.uniform(-1, 1, shape).astype(np.float32)
        return rng.standard_normal(shape).astype(np.float32)
