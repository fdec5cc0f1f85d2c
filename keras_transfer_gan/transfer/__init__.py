"""Transfer: copy what matches, report what does not, freeze by layer path, Freeze-D."""

from keras_transfer_gan.transfer.freeze_summary import FreezeSummary
from keras_transfer_gan.transfer.freezing import (
    freeze,
    freeze_discriminator_blocks,
    layer_paths,
    set_trainable,
    unfreeze,
)
from keras_transfer_gan.transfer.transfer_report import TransferReport
from keras_transfer_gan.transfer.weights import named_weights, transfer_weights

__all__ = [
    "FreezeSummary",
    "TransferReport",
    "freeze",
    "freeze_discriminator_blocks",
    "layer_paths",
    "named_weights",
    "set_trainable",
    "transfer_weights",
    "unfreeze",
]
