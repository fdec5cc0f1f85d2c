"""`Architecture`: what every registered architecture declares, so that callers ask instead of guessing.

The CLI, the tools, export, metrics, the transfer recipes and the test harness never test a model's class
or probe its attributes: they read these declarations and call these methods (in the manner of keras-hub's
tasks and the Model Garden's orbit tasks).

| declaration | meaning |
|---|---|
| ``family`` | ``"gan"``, ``"vae"``, ``"text"`` or ``"classifier"`` |
| ``consumes`` | what training batches hold: ``"images"``, ``"labelled_images"``, ``"conditioning_images"`` (images that are also the generator's input) or ``"text"`` |
| ``conditions`` | what `sample` is conditioned on: None, ``"labels"`` (optional), ``"images"`` (required) or ``"prompt"`` |
| ``generates`` | ``"images"``, ``"text"`` or None |
| ``optimizer_slots`` | the optimizers a trainer builds and passes to `compile`, by keyword |
| ``default_signature`` | the serving signature TFLite converts by default |
| ``transfer_heads`` | layer name -> how its weights are carried when a constructor argument changes: ``"input_channels"``, ``"output_channels"``, ``"class_rows"``, ``"class_columns"``, ``"vocabulary_rows"``, ``"vocabulary_columns"`` |
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
| ``cdc_layers()`` | CDC: the generator layers whose activations are compared |
| ``scale_shift_layers(output_layer)`` | scale/shift adaptation: the generator layers it trains |

Transfer asks for these instead of matching layer names, so a model whose layers are named otherwise (or a
generator without batch norm) declares its own; only `models/` knows its layers' names.
"""

import dataclasses

import numpy as np
import tensorflow as tf

HEAD_KINDS = ("input_channels", "output_channels", "class_rows", "class_columns", "vocabulary_rows",
              "vocabulary_columns")
#: The few-shot methods an architecture can declare (`few_shot_methods`), by the names `ktg transfer` uses.
FEW_SHOT_METHODS = ("freeze_d", "l2_sp", "cdc", "ewc", "scale_shift", "adafm")


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
    default_signature = "serving_default"
    transfer_heads = {}
    few_shot_methods = ()
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

    def cdc_layers(self):
        """CDC: names of the generator layers whose activations CDC compares."""
        self.require_method("cdc")
        raise NotImplementedError(f"{type(self).__name__} declares cdc but not cdc_layers()")

    def scale_shift_layers(self, output_layer=True):
        """Scale/shift adaptation: names of the generator layers it trains (the output layer too when asked)."""
        self.require_method("scale_shift")
        raise NotImplementedError(f"{type(self).__name__} declares scale_shift but not scale_shift_layers()")

    def training_state(self):
        """``{name: trackable}``: training settings with state (e.g. ADA's probability) that checkpoints
        must hold besides the model and its optimizers, so a resumed run continues exactly."""
        return {}

    def probe_inputs(self, signature, n=2, seed=0, images=None):
        """Deterministic NumPy inputs for `signature`: ``{input_name: array}``.

        Float tensors are standard normal (noise) or uniform in [-1, 1]
        (images, from `images` when given); labels cycle through the classes;
        token ids are drawn from the vocabulary; a prompt, a length, a
        temperature of 0, a batch size of `n` and `seed` fill the text and
        sampling inputs.
        """
        rng = np.random.default_rng(seed)
        values = {}
        for spec in signature.specs:
            shape = [n if d is None else d for d in spec.shape]
            name = spec.name
            if name == "batch_size":
                values[name] = np.int32(n)
            elif name == "seed":
                values[name] = np.int32(seed)
            elif name == "labels":
                values[name] = (np.arange(shape[0]) % self.num_classes).astype(np.int32)
            elif name == "ids":
                length = shape[1] if len(shape) > 1 and shape[1] is not None else 8
                values[name] = rng.integers(1, self.vocabulary.size, (shape[0], length)).astype(np.int32)
            elif name == "prompt":
                values[name] = np.array(b"The ")
            elif name == "length":
                values[name] = np.int32(12)
            elif name == "temperature":
                values[name] = np.float32(0.0)
            elif name in ("images", "condition"):
                values[name] = images[: shape[0]].astype(np.float32) if images is not None else \
                    rng.uniform(-1, 1, shape).astype(np.float32)
            else:
                values[name] = rng.standard_normal(shape).astype(np.float32)
        return values
