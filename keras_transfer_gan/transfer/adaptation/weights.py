"""Partial weight transfer by layer path and shape."""

import fnmatch

import keras
import numpy as np

from keras_transfer_gan.models.ema import is_ema_copy
from keras_transfer_gan.transfer.adaptation.transfer_report import TransferReport, TransferRow


def submodels(model, include_ema=True):
    """The model's top-level sub-models (generator, discriminator, ...), or the model itself if none."""
    parts = [layer for layer in model.layers if isinstance(layer, keras.Model)] or [model]
    return parts if include_ema else [part for part in parts if not is_ema_copy(part)]


def layer_paths(model, submodel=None):
    """``[(path, layer)]`` for every layer with weights, in order: ``SUBMODEL/[NESTED/]LAYER``."""

    def walk(prefix, container):
        for layer in container.layers:
            if isinstance(layer, keras.Model):
                yield from walk(f"{prefix}/{layer.name}", layer)
            elif layer.weights:
                yield f"{prefix}/{layer.name}", layer

    found = []
    for part in submodels(model, include_ema=False):
        if submodel is None or part.name == submodel:
            found.extend(walk(part.name, part))
    if submodel is not None and not found:
        names = ", ".join(part.name for part in submodels(model, include_ema=False))
        raise ValueError(f"freeze: no sub-model {submodel!r} (sub-models: {names})")
    return found


def named_weights(model):
    """``{path: variable}`` with paths ``SUBMODEL/LAYER/WEIGHT``, e.g. ``generator/g_project/kernel``.

    Paths come from explicit layer names, never from auto-generated ones
    (which shift between processes); a model without sub-models uses its own
    name as the first part.
    """
    named = {}
    for part in submodels(model):
        for variable in part.weights:
            named[f"{part.name}/{variable.path}"] = variable
    return named


def _matches(path, patterns):
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, f"*{p}*") for p in patterns)


def transfer_weights(source, target, dont_load=(), strict=False):
    """Copy the source's weights into the target where path and shape agree.

    Args:
        source: a Keras model (or a ``{path: array}`` dict) to copy from.
        target: the Keras model to copy into (changed in place).
        dont_load: glob patterns of target paths to leave as initialised
            (a bare word matches anywhere, e.g. ``"d_logits"``).
        strict: bool. Raise a ValueError on any shape mismatch, missing or
            unused weight instead of reporting it.

    Returns:
        A `TransferReport`; nothing is skipped without a row saying so.
    """
    if isinstance(source, dict):
        source_arrays = {k: np.asarray(v) for k, v in source.items()}
    else:
        source_arrays = {k: v for k, v in named_weights(source).items()}
    target_vars = named_weights(target)
    rows, used = [], set()
    for path, variable in target_vars.items():
        target_shape = tuple(variable.shape)
        if path not in source_arrays:
            rows.append(TransferRow(path, "missing in source", None, target_shape))
            continue
        source_value = source_arrays[path]
        source_shape = tuple(source_value.shape)
        used.add(path)
        if dont_load and _matches(path, dont_load):
            rows.append(TransferRow(path, "not loaded", source_shape, target_shape))
        elif source_shape != target_shape:
            rows.append(TransferRow(path, "shape mismatch", source_shape, target_shape))
        else:
            value = source_value if isinstance(source_value, np.ndarray) else source_value.numpy()
            variable.assign(value)
            rows.append(TransferRow(path, "copied", source_shape, target_shape))
    for path, value in source_arrays.items():
        if path not in used:
            rows.append(TransferRow(path, "unused in source", tuple(value.shape), None))
    report = TransferReport(rows)
    if strict and report.problems:
        first = report.problems[0]
        raise ValueError(
            f"transfer_weights(strict=True): {len(report.problems)} weights did not transfer, "
            f"first {first.path!r}: {first.status}"
        )
    return report
