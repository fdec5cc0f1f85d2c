"""Losses: adversarial objectives as per-example functions (scaled by the trainer's global batch)."""

from keras_transfer_gan.losses.adversarial import ADVERSARIAL_LOSSES, get_adversarial_loss
from keras_transfer_gan.losses.penalties import gradient_penalty, kl_divergence

__all__ = ["ADVERSARIAL_LOSSES", "get_adversarial_loss", "gradient_penalty", "kl_divergence"]
