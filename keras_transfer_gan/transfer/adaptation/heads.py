"""Carrying weights across a change of channels, classes or vocabulary, through the heads a model declares."""

import warnings

import keras
import numpy as np

from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.transfer.adaptation.transfer_report import TransferReport, TransferRow
from keras_transfer_gan.transfer.adaptation.weights import named_weights, submodels, transfer_weights


def declared_head(model, path):
    """``(kind, layer name)`` of the head `model` declares for the layer a weight path runs through, or None."""
    heads = model.transfer_heads if isinstance(model, Architecture) else {}
    return next(((heads[part], part) for part in path.split("/")[1:-1] if part in heads), None)


def _find_layer(model, path, name):
    """The layer called `name` inside the sub-model the weight path starts with."""
    part = next(p for p in submodels(model) if p.name == path.split("/")[0])

    def walk(container):
        for layer in container.layers:
            if layer.name == name:
                return layer
            if isinstance(layer, keras.Model):
                found = walk(layer)
                if found is not None:
                    return found
        return None

    return walk(part) if isinstance(part, keras.Model) else part


def _channel_axis(layer, kind, ndim):
    """The axis of a weight that counts the image's channels: a bias's only axis, a transposed conv kernel's
    ``[k, k, out, in]`` axis 2 (out) or 3 (in), any other kernel's last (out) or second-to-last (in)."""
    if ndim == 1:
        return 0
    transposed = isinstance(layer, keras.layers.Conv2DTranspose)
    if kind == "output_channels":
        return ndim - 2 if transposed else ndim - 1
    return ndim - 1 if transposed else ndim - 2


def _adapt_channels(source, target_shape, kind, axis, mode):
    """A weight whose channel count (on `axis`) changed 1 <-> 3.

    ``"input_channels"`` (the layer reading the image): 1 -> 3 divides by 3
    (``"average"``: a gray image given as RGB gives the same response) or
    copies (``"repeat"``); 3 -> 1 sums. ``"output_channels"`` (the layer writing
    the image, and its bias): 1 -> 3 repeats (the gray output in every
    channel); 3 -> 1 averages.
    """
    s, t = source.shape[axis], target_shape[axis]
    if {s, t} != {1, 3} or tuple(np.delete(source.shape, axis)) != tuple(np.delete(target_shape, axis)):
        return None
    if t == 3:
        value = np.repeat(source, 3, axis=axis)
        return value / 3.0 if (kind == "input_channels" and mode == "average") else value
    return source.sum(axis=axis, keepdims=True) if kind == "input_channels" else source.mean(axis=axis, keepdims=True)


def _adapt_rows(source, current, kind, path, class_map, vocabularies):
    """Class or vocabulary resizing: embeddings by rows, dense heads by output columns (bias entries)."""
    axis = 0 if kind.endswith("_rows") else source.ndim - 1
    if source.ndim != current.ndim or np.delete(source.shape, axis).tolist() != np.delete(current.shape, axis).tolist():
        return None
    if kind.startswith("vocabulary") and vocabularies is not None and \
            (source.shape[axis], current.shape[axis]) == (vocabularies[0].size, vocabularies[1].size):
        src_vocab, tgt_vocab = vocabularies
        pairs = [(0, 0)] + [(src_vocab.encode(c)[0], i) for i, c in enumerate(tgt_vocab.chars) if i and c in src_vocab]
    else:  # classes (and, without the vocabularies, token ids) pair by index
        mapping = class_map if class_map is not None else {i: i for i in range(min(source.shape[axis], current.shape[axis]))}
        bad = [s for s in mapping.values() if not 0 <= s < source.shape[axis]]
        if bad:
            raise ValueError(f"rebuild_heads: class_map source class {bad[0]} is out of range for {path}")
        pairs = [(s, t) for t, s in mapping.items() if 0 <= t < current.shape[axis]]
    out, src = np.moveaxis(current.copy(), axis, 0), np.moveaxis(source, axis, 0)
    for s, t in pairs:
        out[t] = src[s]
    return np.moveaxis(out, 0, axis)


def carry_weights(source, target, mode="average", class_map=None, vocabularies=None, dont_load=()):
    """Copy everything that matches, then carry the mismatched heads the target declares across the change.

    What a weight's layer is, and so how it is carried, comes from the target's
    `transfer_heads` (never guessed from shapes):

    - ``input_channels`` / ``output_channels`` (1 <-> 3): the layer reading the
      image (D's first conv, the encoder's, the classifier's) and the one
      writing it (G's last transposed conv); `mode` is ``"average"`` or
      ``"repeat"``;
    - ``class_rows`` / ``class_columns``: label embeddings (rows) and class
      heads (kernel columns, bias entries) keep the classes in both models;
      `class_map` (``{target_class: source_class}``) pairs them, by default
      class i with i;
    - ``vocabulary_rows`` / ``vocabulary_columns``: with
      ``vocabularies=(source_vocab, target_vocab)``, embedding rows and softmax
      columns of characters in both vocabularies are copied; characters new to
      the target keep their initialisation.

    Returns:
        A `TransferReport` in which the carried heads read ``adapted`` and any
        mismatch left (on a layer that is not a declared head, or that its kind
        cannot carry) stays listed as such.
    """
    if mode not in ("average", "repeat"):
        raise ValueError(f"rebuild_heads: mode must be 'average' or 'repeat', got {mode!r}")
    if vocabularies is not None:
        for which, model, vocabulary in (("source", source, vocabularies[0]), ("target", target, vocabularies[1])):
            own = model.vocabulary if isinstance(model, Architecture) and model.family == "text" else None
            if own is not None and own != vocabulary:
                raise ValueError(f"rebuild_heads: the {which} vocabulary given ({vocabulary.size} characters) is not "
                                 f"the {which} model's ({own.size} characters)")
    # A vocabulary that changed, even at the same size, is carried by character, never by id.
    remap = vocabularies is not None and vocabularies[0] != vocabularies[1]
    vocabulary_heads = {path: var.numpy() for path, var in named_weights(target).items()
                        if remap and (declared_head(target, path) or ("",))[0].startswith("vocabulary")}
    report = transfer_weights(source, target, dont_load=dont_load)
    source_arrays = {k: np.asarray(v.numpy()) for k, v in named_weights(source).items()}
    target_vars = named_weights(target)
    rows = []
    for row in report.rows:
        head = declared_head(target, row.path)
        mismatch = row.status == "shape mismatch" or (row.path in vocabulary_heads and row.status == "copied")
        if head is None or not mismatch:
            rows.append(row)
            continue
        (kind, name), value, variable = head, source_arrays[row.path], target_vars[row.path]
        if kind.endswith("_channels"):
            axis = _channel_axis(_find_layer(target, row.path, name), kind, value.ndim)
            new = _adapt_channels(value, row.target_shape, kind, axis, mode)
        else:
            current = vocabulary_heads.get(row.path, np.asarray(variable.numpy()))  # new rows keep their init
            new = _adapt_rows(value, current, kind, row.path, class_map, vocabularies)
        if new is None:
            rows.append(row)
            continue
        variable.assign(new.astype(np.float32))
        rows.append(TransferRow(row.path, "adapted", row.source_shape, row.target_shape))
    notes = []
    if remap:
        source_vocabulary, target_vocabulary = vocabularies
        known = [c for c in target_vocabulary.chars[1:] if c in source_vocabulary]
        new_chars = [c for c in target_vocabulary.chars[1:] if c not in source_vocabulary]
        fresh = f": {''.join(new_chars)!r}" if new_chars else ""
        notes.append(f"vocabulary: {len(known)} of the target's {target_vocabulary.size - 1} characters carried "
                     f"from the source by character (embedding rows, softmax columns); {len(new_chars)} new, "
                     f"initialised{fresh}")
    return TransferReport(rows, notes)


def derive_model(source, **overrides):
    """A fresh model of the source's class with `overrides`, carrying its weights: ``(model, report)``.

    A new ``vocabulary=`` is carried by character (`carry_weights` with both vocabularies).
    """
    config = source.get_config()
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(f"unknown override {unknown[0]!r} for {type(source).__name__}")
    target = type(source).from_config({**config, **overrides})
    vocabularies = (source.vocabulary, target.vocabulary) if "vocabulary" in overrides else None
    return target, carry_weights(source, target, vocabularies=vocabularies)


def rebuild_heads(source, target, mode="average", class_map=None, vocabularies=None, dont_load=()):
    """Deprecated name of `carry_weights`."""
    warnings.warn("rebuild_heads is deprecated: use carry_weights", DeprecationWarning, stacklevel=2)
    return carry_weights(source, target, mode, class_map, vocabularies, dont_load)


def rebuilt_target(source, **overrides):
    """Deprecated name of `derive_model`."""
    warnings.warn("rebuilt_target is deprecated: use derive_model", DeprecationWarning, stacklevel=2)
    return derive_model(source, **overrides)
