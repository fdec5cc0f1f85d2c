"""Images from the user's own files: a folder of images, or `.npy` / `.npz` arrays.

Loaders return ``(images, labels)`` like `builtin`: float32 in [0, 1], NHWC,
with int32 labels or ``None``, plus the class names where there are any.
Problems raise ``ValueError`` with a one-line message naming the spec.
"""

import os

import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def _to_unit_range(array, spec):
    """Map uint8 [0, 255], float [0, 1], float [0, 255] or float [-1, 1] to [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"dataset {spec!r}: array dtype {array.dtype} is not numeric")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"dataset {spec!r}: array contains NaN or Inf")
    lo, hi = float(array.min()), float(array.max())
    if lo < 0.0:
        if lo < -1.0 - 1e-6 or hi > 1.0 + 1e-6:
            raise ValueError(
                f"dataset {spec!r}: float values in [{lo:g}, {hi:g}] are in no known range "
                "([0, 1], [0, 255] or [-1, 1])"
            )
        return (array + 1.0) / 2.0
    if hi > 1.0:
        if hi > 255.0 + 1e-6:
            raise ValueError(f"dataset {spec!r}: values up to {hi:g} exceed 255")
        return array / 255.0
    return array


#: Names an `.npz` may give its images and its labels, in order of preference.
IMAGE_KEYS = ("x", "images", "x_train")
LABEL_KEYS = ("y", "labels", "y_train")


def check_image_shape(shape, spec):
    """An image array's shape must be (N, H, W) or (N, H, W, 1|3|4) with N > 0."""
    shape = tuple(shape)
    if len(shape) not in (3, 4) or (len(shape) == 4 and shape[-1] not in (1, 3, 4)):
        raise ValueError(f"dataset {spec!r}: expected images shaped (N, H, W) or (N, H, W, 1|3|4), got {shape}")
    if shape[0] == 0:
        raise ValueError(f"dataset {spec!r}: the array holds no images")


def check_labels(labels, n_images, spec):
    """Labels of an array dataset: one integer per image; returned as int32."""
    if len(labels) != n_images:
        raise ValueError(f"dataset {spec!r}: {len(labels)} labels for {n_images} images")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"dataset {spec!r}: labels must be integers, got {labels.dtype}")
    return labels.astype(np.int32)


def _as_nhwc(images, spec):
    check_image_shape(images.shape, spec)
    if images.ndim == 3:
        images = images[..., None]
    return images[..., :3] if images.shape[-1] == 4 else images


def load_array(path, spec):
    """Load `.npy` (images) or `.npz` (`x`/`images` and optional `y`/`labels`)."""
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:  # numpy raises several types for bad files
        raise ValueError(f"dataset {spec!r}: cannot read {path}: {exc}".splitlines()[0]) from None
    labels = None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            keys = set(data.files)
            image_key = next((k for k in IMAGE_KEYS if k in keys), None)
            if image_key is None:
                raise ValueError(
                    f"dataset {spec!r}: .npz has no 'x' or 'images' array (found {sorted(keys)})"
                )
            images = data[image_key]
            label_key = next((k for k in LABEL_KEYS if k in keys), None)
            if label_key is not None:
                labels = np.asarray(data[label_key]).reshape(-1)
    else:
        images = data
    images = _as_nhwc(np.asarray(images), spec)
    if labels is not None:
        labels = check_labels(labels, len(images), spec)
    return _to_unit_range(images, spec), labels, None


def read_image(path, spec):
    """One image file as a uint8 array (H, W) or (H, W, 3)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode not in ("L", "RGB"):
                img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
                if img.mode == "RGBA":
                    img = img.convert("RGB")
            return np.asarray(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(
            f"dataset {spec!r}: unreadable image {path}: {exc}".splitlines()[0]
        ) from None


def _list_images(folder):
    return sorted(
        os.path.join(folder, f)
        for f in os.listdir(folder)
        if f.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, f))
    )


def image_channels(path, spec):
    """1 for a gray image file, 3 otherwise (reads the header only)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return 1 if img.mode == "L" else 3  # read_image turns every other mode into RGB
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"dataset {spec!r}: unreadable image {path}: {exc}".splitlines()[0]) from None


def list_folder(folder, spec):
    """``(paths, labels, class_names)`` of the images directly in `folder` (no labels), or in its class
    sub-folders (labels by sorted folder name); nothing is read."""
    subdirs = sorted(
        d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)) and not d.startswith(".")
    )
    files, labels, class_names = _list_images(folder), None, None
    if subdirs and not files:
        class_names = []
        files, labels = [], []
        for name in subdirs:
            found = _list_images(os.path.join(folder, name))
            if found:
                labels.extend([len(class_names)] * len(found))
                class_names.append(name)
                files.extend(found)
    if not files:
        raise ValueError(f"dataset {spec!r}: no image files ({', '.join(IMAGE_EXTENSIONS)}) in {folder}")
    return files, labels, class_names


def load_folder(folder, spec):
    """Images directly in `folder`, or in class sub-folders (labels by sorted name), read into memory."""
    files, labels, class_names = list_folder(folder, spec)
    arrays = [read_image(path, spec) for path in files]
    shapes = {a.shape[:2] for a in arrays}
    if len(shapes) > 1:
        # Different sizes: bring every image to the most common size first.
        from PIL import Image

        target = max(shapes, key=lambda s: sum(a.shape[:2] == s for a in arrays))
        arrays = [
            a if a.shape[:2] == target
            else np.asarray(Image.fromarray(a).resize((target[1], target[0]), Image.BILINEAR))
            for a in arrays
        ]
    channels = 3 if any(a.ndim == 3 for a in arrays) else 1
    stacked = np.stack(
        [a[..., None] if a.ndim == 2 and channels == 1 else (np.repeat(a[..., None], 3, -1) if a.ndim == 2 else a)
         for a in arrays]
    )
    images = stacked.astype(np.float32) / 255.0
    label_array = None if labels is None else np.asarray(labels, np.int32)
    return images, label_array, class_names
