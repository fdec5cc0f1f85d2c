"""Head rebuilding: carry weights across a change of channels, classes or vocabulary."""

import keras
import numpy as np

from keras_transfer_gan.transfer.transfer_report import TransferReport, TransferRow
from keras_transfer_gan.transfer.weights import named_weights, submodels, transfer_weights


def _owners(model):
    """``{path: layer}`` for every weight path (``SUBMODEL/[NESTED/]LAYER/WEIGHT``)."""
    owners = {}

    def walk(prefix, container):
        for layer in container.layers:
            if isinstance(layer, keras.Model):
                walk(prefix, layer)
            else:
                for variable in layer.weights:
                    owners[f"{prefix}/{variable.path}"] = layer

    for part in submodels(model):
        walk(part.name, part)
    return owners


def _adapt_channels(source, target_shape, layer, mode):
    """Conv kernels and their biases whose channel count changed (1 <-> 3).

    A `Conv2D` kernel ``[k, k, in, out]`` changes its input channels: 1 -> 3
    divides by 3 (``"average"``, a gray image as RGB gives the same response)
    or copies (``"repeat"``); 3 -> 1 sums. A `Conv2DTranspose` kernel
    ``[k, k, out, in]`` (and bias) changes its output channels: 1 -> 3 repeats
    (gray output in every channel), 3 -> 1 averages.
    """
    axis = 2 if source.ndim == 4 else 0
    s, t = source.shape[axis], target_shape[axis]
    if {s, t} != {1, 3} or tuple(np.delete(source.shape, axis)) != tuple(np.delete(target_shape, axis)):
        return None
    transposed = isinstance(layer, keras.layers.Conv2DTranspose)
    if t == 3:
        value = np.repeat(source, 3, axis=axis)
        return value / 3.0 if (not transposed and source.ndim == 4 and mode == "average") else value
    if transposed or source.ndim == 1:
        return source.mean(axis=axis, keepdims=True)
    return source.sum(axis=axis, keepdims=True)


def rebuild_heads(source, target, mode="average", class_map=None, vocabularies=None, dont_load=()):
    """Copy everything that matches, then carry mismatched heads across the change.

    Handles, by shape and layer type:

    - **channels** (1 <-> 3): D's first conv and G's last transposed conv
      (see `_adapt_channels`); `mode` is ``"average"`` or ``"repeat"``;
    - **classes**: label embeddings (rows) and class heads (kernel columns,
      bias entries) keep the rows of classes in both models; `class_map`
      (``{target_class: source_class}``) pairs them, by default class i with i;
    - **vocabulary**: with ``vocabularies=(source_vocab, target_vocab)``,
      embedding rows and softmax columns of characters in both vocabularies
      are copied; characters new to the target keep their initialisation.

    Returns:
        A `TransferReport` in which the carried heads read ``adapted`` and
        any mismatch left stays listed as such.
    """
    if mode not in ("average", "repeat"):
        raise ValueError(f"rebuild_heads: mode must be 'average' or 'repeat', got {mode!r}")
    if vocabularies is not None:
        for which, model, vocabulary in (("source", source, vocabularies[0]), ("target", target, vocabularies[1])):
            own = getattr(model, "vocabulary", None)
            if own is not None and own != vocabulary:
                raise ValueError(f"rebuild_heads: the {which} vocabulary given ({vocabulary.size} characters) is not "
                                 f"the {which} model's ({own.size} characters)")
    report = transfer_weights(source, target, dont_load=dont_load)
    source_arrays = {k: np.asarray(v.numpy()) for k, v in named_weights(source).items()}
    target_vars = named_weights(target)
    owners = _owners(target)
    rows = []
    for row in report.rows:
        if row.status != "shape mismatch":
            rows.append(row)
            continue
        value = source_arrays[row.path]
        layer = owners.get(row.path)
        variable = target_vars[row.path]
        new = _adapt_channels(value, row.target_shape, layer, mode)
        if new is None:
            new = _adapt_rows(value, np.asarray(variable.numpy()), layer, row.path, class_map, vocabularies)
        if new is None:
            rows.append(row)
            continue
        variable.assign(new.astype(np.float32))
        rows.append(TransferRow(row.path, "adapted", row.source_shape, row.target_shape))
    return TransferReport(rows)


def _adapt_rows(source, current, layer, path, class_map, vocabularies):
    """Class or vocabulary resizing: embeddings by rows, dense heads by output columns."""
    if isinstance(layer, keras.layers.Embedding):
        axis = 0
    elif isinstance(layer, keras.layers.Dense) and source.ndim in (1, 2):
        axis = source.ndim - 1  # kernel columns, bias entries
    else:
        return None
    if source.ndim != current.ndim or np.delete(source.shape, axis).tolist() != np.delete(current.shape, axis).tolist():
        return None
    if vocabularies is not None and source.shape[axis] == vocabularies[0].size and current.shape[axis] == vocabularies[1].size:
        src_vocab, tgt_vocab = vocabularies
        pairs = [(0, 0)] + [(src_vocab.encode(c)[0], i) for i, c in enumerate(tgt_vocab.chars) if i and c in src_vocab]
    else:
        mapping = class_map if class_map is not None else {i: i for i in range(min(source.shape[axis], current.shape[axis]))}
        bad = [s for s in mapping.values() if not 0 <= s < source.shape[axis]]
        if bad:
            raise ValueError(f"rebuild_heads: class_map source class {bad[0]} is out of range for {path}")
        pairs = [(s, t) for t, s in mapping.items() if 0 <= t < current.shape[axis]]
    out, src = np.moveaxis(current.copy(), axis, 0), np.moveaxis(source, axis, 0)
    for s, t in pairs:
        out[t] = src[s]
    return np.moveaxis(out, 0, axis)


def rebuilt_target(source, **overrides):
    """A fresh model of the source's class with `overrides`, carrying its weights: ``(target, report)``."""
    config = source.get_config()
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(f"unknown override {unknown[0]!r} for {type(source).__name__}")
    target = type(source).from_config({**config, **overrides})
    return target, rebuild_heads(source, target)
