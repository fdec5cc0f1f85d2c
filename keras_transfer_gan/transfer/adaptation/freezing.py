"""Freezing by layer path: name pattern, first n layers, or a fraction; and Freeze-D."""

import fnmatch

from keras_transfer_gan.transfer.adaptation.freeze_summary import FreezeSummary
from keras_transfer_gan.transfer.adaptation.transfer_report import TransferReport
from keras_transfer_gan.transfer.adaptation.weights import layer_paths
from keras_transfer_gan.utils.checks import check_positive_int


def _pattern_match(path, patterns):
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, f"*{p}*") for p in patterns)


def set_trainable(model, trainable, pattern=None, first_n=None, fraction=None, submodel=None):
    """Set `trainable` on the layers chosen by exactly one selector; returns a `FreezeSummary`.

    Args:
        model: a zoo model (or any Keras model).
        trainable: bool.
        pattern: str or list of glob patterns over layer paths such as
            ``discriminator/d_block1_conv``; a bare word matches anywhere.
        first_n: int. The first n layers with weights (of `submodel`, or of the whole model).
        fraction: float in [0, 1]. The first ``round(fraction * n)`` layers.
        submodel: str or None. Restrict `first_n` / `fraction` / `pattern` to one sub-model.
    """
    selectors = [s is not None for s in (pattern, first_n, fraction)]
    if sum(selectors) != 1:
        raise ValueError("freeze: give exactly one of pattern=, first_n= or fraction=")
    layers = layer_paths(model, submodel)
    if pattern is not None:
        patterns = [pattern] if isinstance(pattern, str) else list(pattern)
        chosen = [(p, l) for p, l in layers if _pattern_match(p, patterns)]
        if not chosen:
            raise ValueError(f"freeze: pattern {pattern!r} matches no layer (e.g. {layers[0][0]!r})")
    elif first_n is not None:
        if isinstance(first_n, bool) or not isinstance(first_n, int) or not 0 <= first_n <= len(layers):
            raise ValueError(f"freeze: first_n must be an integer in [0, {len(layers)}], got {first_n!r}")
        chosen = layers[:first_n]
    else:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"freeze: fraction must be in [0, 1], got {fraction!r}")
        chosen = layers[: int(round(fraction * len(layers)))]
    for _, layer in chosen:
        layer.trainable = trainable
    # A traced `fit` step keeps the trainable list it was traced with: drop it
    # so the next `fit` traces again (what `compile` would do, minus resetting
    # the optimizers). `Trainer` notices the change by itself.
    model.train_function = None
    return FreezeSummary.of(model, [p for p, _ in chosen])


def freeze(model, pattern=None, first_n=None, fraction=None, submodel=None):
    """Freeze the chosen layers (see `set_trainable`). Frozen batch norm runs in inference mode.

    Example:
    >>> summary = freeze(model, pattern="discriminator/d_block1_*")
    >>> print(summary)
    """
    return set_trainable(model, False, pattern, first_n, fraction, submodel)


def unfreeze(model, pattern=None, first_n=None, fraction=None, submodel=None):
    """Make the chosen layers trainable again (see `set_trainable`)."""
    return set_trainable(model, True, pattern, first_n, fraction, submodel)


def freeze_discriminator_blocks(model, k, keep_trainable=()):
    """Freeze-D (Mo et al., 2020): freeze the discriminator's first `k` blocks, as the model declares them
    (`discriminator_blocks()`; a model without Freeze-D is a one-line error naming it).

    Args:
        model: a GAN that supports ``freeze_d``.
        k: int. Blocks to freeze.
        keep_trainable: layer names (or a `TransferReport`, whose adapted
            discriminator layers are taken) to leave trainable inside the
            frozen blocks. After a 1 -> 3 channel change the adapted first
            conv weighs the three channels alike, so D is colour-blind until
            that conv trains: freezing it would stop G from ever learning colour.
    """
    return _freeze_blocks(model, model.discriminator, model.discriminator_blocks(), k, keep_trainable, "freeze_d")


def freeze_generator_blocks(model, k, keep_trainable=()):
    """FreezeG (Lee et al., 2020): freeze the generator's first `k` blocks from its input, as the model declares
    them (`generator_blocks()`; a style-based generator's first block holds its mapping network), so only
    the later, higher-resolution blocks adapt. `keep_trainable` as for `freeze_discriminator_blocks`."""
    return _freeze_blocks(model, model.generator, model.generator_blocks(), k, keep_trainable, "freeze_g")


def _freeze_blocks(model, part, blocks, k, keep_trainable, method):
    check_positive_int(k, "k", method, minimum=0)
    if isinstance(keep_trainable, TransferReport):
        keep_trainable = sorted({p.split("/")[1] for p in keep_trainable.by_status("adapted")
                                 if p.startswith(f"{part.name}/")})
    if k > len(blocks):
        raise ValueError(f"{method}: the {part.name} has {len(blocks)} blocks, cannot freeze {k}")
    names, keep = {name for block in blocks[:k] for name in block}, set(keep_trainable)
    chosen = [p for p, _ in layer_paths(model, part.name)
              if p.split("/")[1] in names and p.split("/")[-1] not in keep]
    if not chosen:
        return FreezeSummary.of(model, [])
    return freeze(model, pattern=chosen)
