"""Augmentation of the discriminator's input for small data: DiffAugment and ADA."""

from keras_transfer_gan.transfer.augmentation.ada import ADA
from keras_transfer_gan.transfer.augmentation.diff_augment import DiffAugment

__all__ = ["ADA", "DiffAugment"]
