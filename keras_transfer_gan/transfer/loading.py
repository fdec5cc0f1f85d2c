"""`load_pretrained`: a model from a `.keras` file, a `.weights.h5` with its config, or a SavedModel."""

import json
import os

import keras

from keras_transfer_gan.transfer.heads import rebuild_heads


def _fail(source, what):
    raise ValueError(f"load_pretrained({source!r}): {what}".splitlines()[0]) from None


def _load_keras_file(source, safe_mode):
    import keras_transfer_gan.models  # noqa: F401  (registers the zoo's classes)

    try:
        return keras.models.load_model(source, safe_mode=safe_mode)
    except Exception as exc:  # corrupt, truncated or foreign files raise many types
        _fail(source, f"cannot load the .keras file: {exc}")


def _model_from_config(source, config, model):
    from keras_transfer_gan.registry import create_model

    import keras_transfer_gan.models  # noqa: F401

    if model is not None:
        return create_model(model, **(config or {}))
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


def load_pretrained(source, model=None, config=None, safe_mode=True, endpoint="serving_default",
                    return_report=False, **overrides):
    """Load a pretrained model, optionally rebuilt with new constructor arguments.

    Args:
        source: a ``.keras`` file; a ``.weights.h5`` file (with `model=` or
            `config=`); or a SavedModel directory, which (until the export
            issue maps this package's own exports back) loads as a frozen
            `keras.layers.TFSMLayer` feature extractor.
        model: str. Registry name for a ``.weights.h5`` file.
        config: dict or path of a JSON file: the model's serialized config
            (``keras.saving.serialize_keras_object(model)``), for ``.weights.h5``;
            with `model=`, constructor arguments.
        safe_mode: bool. Refuse ``.keras`` files with arbitrary code (lambdas). Defaults to True.
        endpoint: str. SavedModel signature to call. Defaults to ``"serving_default"``.
        return_report: bool. Also return the `TransferReport` of a rebuild (None without overrides).
        **overrides: constructor arguments that differ from the source (e.g.
            ``channels=3``, ``num_classes=5``): a new model is built from the
            source's config with them, and `rebuild_heads` carries the weights.

    Returns:
        The model (or ``(model, report)`` with `return_report`).
    """
    if not isinstance(source, str) or not source:
        raise ValueError(f"load_pretrained({source!r}): source must be a path")
    if os.path.isdir(source):
        if not os.path.isfile(os.path.join(source, "saved_model.pb")):
            _fail(source, "a directory must be a SavedModel (no saved_model.pb)")
        if overrides:
            _fail(source, "overrides need a Keras model, not a SavedModel")
        loaded, report = _load_saved_model(source, endpoint), None
        return (loaded, report) if return_report else loaded
    if not os.path.exists(source):
        _fail(source, "no such file or directory (zoo names come with the zoo checkpoints)")
    if source.endswith(".keras"):
        loaded = _load_keras_file(source, safe_mode)
    elif source.endswith(".weights.h5"):
        loaded = _model_from_config(source, config, model)
        try:
            loaded.load_weights(source)
        except Exception as exc:
            _fail(source, f"the weights do not fit the model: {exc}")
    else:
        _fail(source, "unsupported file type (expected .keras, .weights.h5 or a SavedModel directory)")
    report = None
    if overrides:
        config = loaded.get_config()
        unknown = sorted(set(overrides) - set(config))
        if unknown:
            _fail(source, f"unknown override {unknown[0]!r} for {type(loaded).__name__}")
        target = type(loaded).from_config({**config, **overrides})
        report = rebuild_heads(loaded, target)
        loaded = target
    return (loaded, report) if return_report else loaded
