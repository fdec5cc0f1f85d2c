"""Regularisers that keep an adapted model near its source: L2-SP, EWC (weights), CDC and DDPM-PA's pairwise
similarity loss (sample similarities)."""

from keras_transfer_gan.transfer.regularizers.cdc import CDC
from keras_transfer_gan.transfer.regularizers.ewc import EWC, estimate_fisher
from keras_transfer_gan.transfer.regularizers.l2_sp import L2SP
from keras_transfer_gan.transfer.regularizers.pairwise_similarity import PairwiseSimilarity

__all__ = ["CDC", "EWC", "L2SP", "PairwiseSimilarity", "estimate_fisher"]
