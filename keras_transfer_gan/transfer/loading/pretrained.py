"""`load_pretrained`: a model from a zoo name, a `.keras` file, a `.weights.h5` with its config,
a legacy Keras 2 `.h5`, or a SavedModel directory."""

import json
import os

import keras
import tensorflow as tf

from keras_transfer_gan import zoo
from keras_transfer_gan.registry import build_model  # imports the models: their classes deserialize
from keras_transfer_gan.transfer.adaptation.heads import derive_model
from keras_transfer_gan.transfer.adaptation.weights import transfer_weights
from keras_transfer_gan.transfer.loading import legacy_h5

# Written by `export_saved_model` into `assets.extra/`: the Keras config and
# the order and shapes of the exported variables, to map an export back.
EXPORT_METADATA = "keras_transfer_gan.json"


def _fail(source, what):
    raise ValueError(f"load_pretrained({source!r}): {what}".splitlines()[0]) from None


def _load_keras_file(source, safe_mode):
    try:
        return keras.models.load_model(source, safe_mode=safe_mode)
    except Exception as exc:  # corrupt, truncated or foreign files raise many types
        _fail(source, f"cannot load the .keras file: {exc}")


def _model_from_config(source, config, model):
    if model is not None:
        return build_model(model, **(config or {}))
    if config is None:
        _fail(source, "a .weights.h5 file holds no architecture: pass model=NAME or config=")
    if isinstance(config, str):
        try:
            with open(config) as f:
                config = json.load(f)
        except (OSError, ValueError) as exc:
            _fail(source, f"cannot read the config {config!r}: {exc}")
    try:
        return keras.saving.deserialize_keras_object(config)
    except Exception as exc:
        _fail(source, f"cannot build the model from its config: {exc}")


def _load_saved_model(source, endpoint):
    try:
        layer = keras.layers.TFSMLayer(source, call_endpoint=endpoint, trainable=False)
    except Exception as exc:
        _fail(source, f"cannot load the SavedModel: {exc}")
    for variable in layer.weights:  # a TFSMLayer freezes per variable, not per sub-layer
        variable.trainable = False
    return layer


def _load_own_export(source, metadata_path):
    """Rebuild the Keras model of one of this package's exports and restore its variables by order."""
    try:
        with open(metadata_path) as f:
            metadata = json.load(f)
        model = keras.saving.deserialize_keras_object(metadata["config"])
        loaded = tf.saved_model.load(source)
    except Exception as exc:
        _fail(source, f"cannot rebuild the exported model: {exc}")
    variables = list(loaded.keras_variables)
    weights = model.weights
    shapes = [tuple(s) for s in metadata["shapes"]]
    if len(variables) != len(weights) or [tuple(v.shape) for v in variables] != shapes \
            or [tuple(w.shape) for w in weights] != shapes:
        _fail(source, f"the export's {len(variables)} variables do not match its model's {len(weights)} weights")
    for weight, variable in zip(weights, variables):
        weight.assign(variable.numpy())
    return model


def _load_legacy_h5(source, model, config):
    try:
        if model is None and config is None:
            if not legacy_h5.has_architecture(source):
                _fail(source, "a weights-only Keras 2 .h5 holds no architecture: pass model=NAME (and config=)")
            return legacy_h5.load_legacy_model(source), None
        target = _model_from_config(source, config, model)
        arrays = legacy_h5.legacy_arrays_for(target, legacy_h5.read_legacy_weights(source))
    except ValueError:
        raise
    except Exception as exc:
        _fail(source, f"cannot load the Keras 2 .h5 file: {exc}")
    return target, transfer_weights(arrays, target)


def load_pretrained(source, model=None, config=None, safe_mode=True, endpoint="serving_default",
                    return_report=False, **overrides):
    """Load a pretrained model, optionally rebuilt with new constructor arguments.

    Args:
        source: one of
            - a zoo checkpoint name (``"dcgan_digits"``; see `ktg zoo list`),
              verified by its SHA-256 before loading;
            - a ``.keras`` file;
            - a ``.weights.h5`` file (with `model=` or `config=`);
            - a legacy Keras 2 ``.h5``: a full model loads as a Keras 3 model
              (its training config is dropped); with `model=` (and
              `config=`), or for a weights-only file, its weights are copied
              by layer name into that zoo model, with a `TransferReport`;
            - a SavedModel directory: one written by `export_saved_model`
              maps back onto its Keras model (all weights restored); any
              other loads as a frozen `keras.layers.TFSMLayer` feature extractor.
        model: str. Registry name for a ``.weights.h5`` or Keras 2 ``.h5`` file.
        config: dict or path of a JSON file: the model's serialized config
            (``keras.saving.serialize_keras_object(model)``); with `model=`,
            constructor arguments.
        safe_mode: bool. Refuse ``.keras`` files with arbitrary code (lambdas). Defaults to True.
        endpoint: str. Signature of a foreign SavedModel to call. Defaults to ``"serving_default"``.
        return_report: bool. Also return the `TransferReport` of a rebuild or
            of a Keras 2 weight copy (None when nothing was copied by path).
        **overrides: constructor arguments that differ from the source (e.g.
            ``channels=3``, ``num_classes=5``): a new model is built from the
            source's config with them, and `carry_weights` carries the weights.

    Returns:
        The model (or ``(model, report)`` with `return_report`).
    """
    if not isinstance(source, str) or not source:
        raise ValueError(f"load_pretrained({source!r}): source must be a path or a zoo name")
    report = None
    if os.path.isdir(source):
        if not os.path.isfile(os.path.join(source, "saved_model.pb")):
            _fail(source, "a directory must be a SavedModel (no saved_model.pb)")
        metadata = os.path.join(source, "assets.extra", EXPORT_METADATA)
        if not os.path.isfile(metadata):
            if overrides:
                _fail(source, "overrides need a Keras model, not a foreign SavedModel")
            loaded = _load_saved_model(source, endpoint)
            return (loaded, None) if return_report else loaded
        loaded = _load_own_export(source, metadata)
    elif not os.path.exists(source):
        if not zoo.is_zoo_name(source):
            known = ", ".join(zoo.list_zoo()) or "none"
            _fail(source, f"no such file or directory, and not a zoo checkpoint (zoo: {known})")
        try:
            path = zoo.zoo_path(source)
        except ValueError as exc:
            _fail(source, str(exc))
        loaded = _load_keras_file(path, safe_mode=True)
    elif source.endswith(".keras"):
        loaded = _load_keras_file(source, safe_mode)
    elif source.endswith((".h5", ".hdf5")):
        legacy = legacy_h5.is_legacy_h5(source)
        if source.endswith(".weights.h5") and not legacy:
            loaded = _model_from_config(source, config, model)
            try:
                loaded.load_weights(source)
            except Exception as exc:
                _fail(source, f"the weights do not fit the model: {exc}")
        elif not legacy:
            _fail(source, "not a Keras 2 HDF5 model or weights file (or it is corrupt)")
        else:
            loaded, report = _load_legacy_h5(source, model, config)
    else:
        _fail(source, "unsupported file type (expected .keras, .weights.h5, a Keras 2 .h5, "
                      "a SavedModel directory or a zoo name)")
    if overrides:
        try:
            loaded, report = derive_model(loaded, **overrides)
        except ValueError as exc:
            _fail(source, str(exc))
    return (loaded, report) if return_report else loaded
