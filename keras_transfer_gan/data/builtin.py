"""Built-in image data that ships inside installed packages (no download).

Each loader returns ``(images, labels)``: float32 images in [0, 1] of shape
``(N, H, W, C)`` at their native resolution, and int32 labels (or ``None``).
"""

import functools

import numpy as np

# Colour photographs shipped with scikit-image, used as texture sources for
# `digits_m` (the MNIST-M construction of Ganin et al., 2016).
_TEXTURE_PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "colorwheel",
)


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
    import skimage.data
    from skimage.transform import resize

    base, labels = digits()
    strokes = resize(base, (len(base), 32, 32, 1), order=1, anti_aliasing=False)
    strokes = np.clip(strokes, 0.0, 1.0).astype(np.float32)
    photos = [getattr(skimage.data, name)()[..., :3] for name in _TEXTURE_PHOTOS]
    rng = np.random.default_rng(patch_seed)
    patches = np.empty((len(base), 32, 32, 3), np.float32)
    for i in range(len(base)):
        photo = photos[rng.integers(len(photos))]
        y = rng.integers(photo.shape[0] - 32)
        x = rng.integers(photo.shape[1] - 32)
        patches[i] = photo[y : y + 32, x : x + 32] / 255.0
    return np.abs(patches - strokes).astype(np.float32), labels


BUILTIN = {"digits": digits, "faces": faces, "digits_m": digits_m}
