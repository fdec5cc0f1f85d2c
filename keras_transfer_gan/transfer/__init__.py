"""Transfer: loading (every format), adaptation (weights, report, heads, freezing, scale/shift), regularisers
(L2-SP, EWC, CDC) and augmentation (DiffAugment, ADA); the recipes (`transfer.recipes`) build on them.

`recipes` is not imported here (it trains, so it depends on `training`, which depends on this package):
``from keras_transfer_gan.transfer import recipes`` loads it.
"""

from keras_transfer_gan.transfer.adaptation import (
    FreezeSummary,
    TransferReport,
    adapt_scale_shift,
    carry_weights,
    derive_model,
    fold_modulation,
    freeze,
    freeze_discriminator_blocks,
    layer_paths,
    named_weights,
    rebuild_heads,
    rebuilt_target,
    scale_shift_target,
    set_trainable,
    transfer_weights,
    unfreeze,
)
from keras_transfer_gan.transfer.augmentation import ADA, DiffAugment
from keras_transfer_gan.transfer.loading import load_pretrained
from keras_transfer_gan.transfer.recipe_result import RecipeResult
from keras_transfer_gan.transfer.regularizers import CDC, EWC, L2SP, estimate_fisher

__all__ = [
    "ADA",
    "CDC",
    "DiffAugment",
    "EWC",
    "FreezeSummary",
    "L2SP",
    "RecipeResult",
    "TransferReport",
    "adapt_scale_shift",
    "carry_weights",
    "derive_model",
    "estimate_fisher",
    "fold_modulation",
    "freeze",
    "freeze_discriminator_blocks",
    "layer_paths",
    "load_pretrained",
    "named_weights",
    "rebuild_heads",
    "rebuilt_target",
    "scale_shift_target",
    "set_trainable",
    "transfer_weights",
    "unfreeze",
]
