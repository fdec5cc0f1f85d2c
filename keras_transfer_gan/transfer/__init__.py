"""Transfer: copy what matches, report what does not, freeze by layer path, Freeze-D, L2-SP, DiffAugment, ADA, head rebuilding."""

from keras_transfer_gan.transfer.ada import ADA
from keras_transfer_gan.transfer.diff_augment import DiffAugment
from keras_transfer_gan.transfer.freeze_summary import FreezeSummary
from keras_transfer_gan.transfer.freezing import (
    freeze,
    freeze_discriminator_blocks,
    layer_paths,
    set_trainable,
    unfreeze,
)
from keras_transfer_gan.transfer.heads import rebuild_heads
from keras_transfer_gan.transfer.l2_sp import L2SP
from keras_transfer_gan.transfer.loading import load_pretrained
from keras_transfer_gan.transfer.recipe_result import RecipeResult
from keras_transfer_gan.transfer.transfer_report import TransferReport
from keras_transfer_gan.transfer.weights import named_weights, transfer_weights

__all__ = [
    "ADA",
    "DiffAugment",
    "FreezeSummary",
    "L2SP",
    "RecipeResult",
    "TransferReport",
    "freeze",
    "freeze_discriminator_blocks",
    "layer_paths",
    "load_pretrained",
    "named_weights",
    "rebuild_heads",
    "set_trainable",
    "transfer_weights",
    "unfreeze",
]
