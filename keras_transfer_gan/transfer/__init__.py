"""Transfer, the toolkit: loading (every format), adaptation (weights, report, heads, freezing, scale/shift),
regularisers (L2-SP, EWC, CDC) and augmentation (DiffAugment, ADA).

It trains nothing and sits below `metrics` and `training`; the recipes that train with it are the registered
tasks of `keras_transfer_gan.tasks`.
"""

from keras_transfer_gan.transfer.adaptation import (
    FreezeSummary,
    TransferReport,
    adapt_scale_shift,
    adapter_target,
    carry_weights,
    derive_model,
    fold_modulation,
    freeze,
    freeze_discriminator_blocks,
    freeze_generator_blocks,
    latent_adaptor_target,
    layer_paths,
    lora_target,
    merge_lora,
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
from keras_transfer_gan.transfer.regularizers import CDC, EWC, L2SP, PairwiseSimilarity, estimate_fisher

__all__ = [
    "ADA",
    "CDC",
    "DiffAugment",
    "EWC",
    "FreezeSummary",
    "L2SP",
    "PairwiseSimilarity",
    "RecipeResult",
    "TransferReport",
    "adapt_scale_shift",
    "adapter_target",
    "carry_weights",
    "derive_model",
    "estimate_fisher",
    "fold_modulation",
    "freeze",
    "freeze_discriminator_blocks",
    "freeze_generator_blocks",
    "latent_adaptor_target",
    "lora_target",
    "merge_lora",
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
