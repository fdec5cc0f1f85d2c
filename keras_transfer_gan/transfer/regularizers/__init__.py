"""Regularisers that keep an adapted model near its source: L2-SP, EWC (weights), CDC (sample similarities)."""

from keras_transfer_gan.transfer.regularizers.cdc import CDC
from keras_transfer_gan.transfer.regularizers.ewc import EWC, estimate_fisher
from keras_transfer_gan.transfer.regularizers.l2_sp import L2SP

__all__ = ["CDC", "EWC", "L2SP", "estimate_fisher"]
