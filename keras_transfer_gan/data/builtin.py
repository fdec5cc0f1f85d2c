"""Built-in image data that ships inside installed packages (no download).

The toy sets (``digits``, ``faces``, ``digits_m``) have one split, ``train``; the real sets of
`mnist_family` (``fashion_mnist``, ``mnist``, ``mnist_m``, ``fashion_sketch``) have ``train`` and ``test``. Each loader returns ``(images, labels)``: float32 images in [0, 1] of shape
``(N, H, W, C)`` at their native resolution, and int32 labels (or ``None``).
"""

import functools

import numpy as np

from keras_transfer_gan.data import mnist_family
from keras_transfer_gan.data.mnist_family import blend_over_patches


@functools.lru_cache(maxsize=None)
def digits():
    """scikit-learn's 1,797 handwritten digits: 8x8, one channel, labels 0-9."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[..., None]
    return images, bunch.target.astype(np.int32)


@functools.lru_cache(maxsize=None)
def faces():
    """scikit-image's `lfw_subset`: its 100 face crops, 25x25, one channel."""
    from skimage.data import lfw_subset

    # The file holds 100 faces followed by 100 non-face patches.
    images = lfw_subset()[:100].astype(np.float32)[..., None]
    return images, None


@functools.lru_cache(maxsize=None)
def digits_m(patch_seed=1234):
    """Digits blended over colour patches cut from scikit-image's photos.

    As in MNIST-M, each output pixel is ``|patch - digit|`` per channel, so the
    stroke inverts the texture beneath it. The digits are upsampled to 32x32
    so that the texture keeps some detail; patches are fixed by ``patch_seed``.
    """
    from skimage.transform import resize

    base, labels = digits()
    strokes = resize(base, (len(base), 32, 32, 1), order=1, anti_aliasing=False)
    strokes = np.clip(strokes, 0.0, 1.0).astype(np.float32)
    return blend_over_patches(strokes, patch_seed), labels


TOY = {"digits": digits, "faces": faces, "digits_m": digits_m}
BUILTIN = (*TOY, *mnist_family.LOADERS)


def load_builtin(name, split="train", download=True, spec=None):
    """``(images, labels, class_names)`` of built-in dataset `name` and `split`."""
    spec = spec or name
    if name in mnist_family.LOADERS:
        if split not in mnist_family.SPLITS:
            raise ValueError(f"dataset {spec!r}: unknown split {split!r} (use 'train' or 'test')")
        images, labels = mnist_family.LOADERS[name](split, download)
        return images, labels, mnist_family.CLASS_NAMES.get(name)
    if split != "train":
        raise ValueError(f"dataset {spec!r}: unknown split {split!r} for built-in data (use 'train')")
    return (*TOY[name](), None)
