"""Augmentation of the discriminator's input for small data: DiffAugment and ADA."""

from keras_transfer_gan.transfer.augmentation.ada import ADA
from keras_transfer_gan.transfer.augmentation.diff_augment import DiffAugment

#: The augmentations by name (``ktg train/transfer --augment``).
AUGMENTS = ("none", "diffaugment", "ada")


def make_augment(augment):
    """``"diffaugment"`` / ``"ada"`` / ``"none"`` / None / a callable -> the `GAN.compile` augment."""
    if augment is None or augment == "none":
        return None
    if augment == "diffaugment":
        return DiffAugment()
    if augment == "ada":
        return ADA()
    if callable(augment):
        return augment
    raise ValueError(f"augment must be one of {', '.join(AUGMENTS)} or a callable, got {augment!r}")


__all__ = ["ADA", "AUGMENTS", "DiffAugment", "make_augment"]
