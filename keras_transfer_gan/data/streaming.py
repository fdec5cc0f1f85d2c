"""Streaming sources for `load_dataset`: folders, `.npy`/`.npz` arrays and TFDS read through `tf.data`.

Nothing is materialised: a folder is a list of paths decoded in the pipeline, an array is read a batch of
rows at a time from the file (no memory map, so an epoch does not leave the whole file resident), TFDS is
its own stream. Decoding, resizing and scaling to [-1, 1] run in the pipeline, in parallel. The `limit`
subset is exact and seeded over the whole (class-filtered) dataset, the same images `load_images` picks.
"""

import atexit
import os
import shutil
import tempfile
import zipfile

import numpy as np
import tensorflow as tf

from keras_transfer_gan.data import files

#: Extensions `tf.io.decode_image` reads; folders holding others are decoded with PIL in the pipeline.
TF_DECODABLE = (".png", ".jpg", ".jpeg", ".bmp")


class _Source:
    """What a streamed source gives `load_dataset`: element count, channels, and two pipeline stages."""

    def __init__(self, count, channels, elements, decode, batched_decode=False):
        self.count = count  # images after the class filter and the limit
        self.channels = channels  # the data's own channels
        self.elements = elements  # an unbatched tf.data.Dataset of cheap elements (paths, row indices, examples)
        self.decode = decode  # element(s) -> (float32 image(s) in [0, 1] NHWC or HWC, label(s))
        self.batched_decode = batched_decode  # decode reads a whole batch of elements at once


# --------------------------------------------------------------------------------------------- selection
def selected_indices(n, limit, seed, order_fn):
    """The exact seeded subset: sorted first `limit` of the seeded order over all `n` candidates."""
    if limit is None:
        return np.arange(n)
    if limit > n:
        return None
    return np.sort(order_fn(n, seed)[:limit])


# --------------------------------------------------------------------------------------------- folders
def folder_source(parsed, channels, limit, seed, labels, select_classes, order_fn):
    spec = parsed.text
    paths, label_list, class_names = files.list_folder(parsed.name, spec)
    lab = None if label_list is None else np.asarray(label_list, np.int32)
    if labels and lab is None:
        raise ValueError(f"dataset {spec!r}: labels=True but this data has no labels")
    index, lab = select_classes(np.arange(len(paths)), lab, parsed.classes, class_names, spec)
    chosen = selected_indices(len(index), limit, seed, order_fn)
    if chosen is None:
        raise ValueError(f"dataset {spec!r}: limit={limit} exceeds the {len(index)} images available")
    index = index[chosen]
    lab = None if lab is None else lab[chosen]
    paths = [paths[i] for i in index]
    own = files.image_channels(paths[0], spec)
    want = channels or own
    tf_decode = all(p.lower().endswith(TF_DECODABLE) for p in paths)

    path_table = tf.constant(paths)

    def decode(row, label):
        path = tf.gather(path_table, row)
        if tf_decode:
            image = tf.io.decode_image(tf.io.read_file(path), channels=want, expand_animations=False)
        else:
            image = tf.numpy_function(lambda p: _pil_image(p, want, spec), [path], tf.uint8)
            image.set_shape([None, None, want])
        return tf.cast(image, tf.float32) / 255.0, label

    # Row numbers, not path strings, go through shuffle: a 60,000-path shuffle buffer took a second to fill.
    elements = tf.data.Dataset.from_tensor_slices(
        (np.arange(len(paths), dtype=np.int64), lab if lab is not None else np.zeros(len(paths), np.int32)))
    return _Source(len(paths), own, elements, decode), lab is not None


def _pil_image(path, channels, spec):
    image = files.read_image(path.decode(), spec)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] != channels:
        image = np.repeat(image, 3, -1) if channels == 3 else np.round(
            image @ np.array([0.2989, 0.5870, 0.1140])).astype(np.uint8)[..., None]
    return image.astype(np.uint8)


# --------------------------------------------------------------------------------------------- arrays
class RowReader:
    """Reads rows of a `.npy` array (or an uncompressed `.npz` member) straight from the file with `pread`.

    Compressed `.npz` members are first extracted once to a temporary `.npy` (removed at exit).
    """

    def __init__(self, path, offset, shape, dtype):
        self.path, self.offset, self.shape, self.dtype = path, offset, tuple(shape), np.dtype(dtype)
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self._fd = None

    @classmethod
    def open_npy(cls, path, spec):
        with open(path, "rb") as f:
            offset, shape, dtype = _npy_header(f, spec)
        return cls(path, offset, shape, dtype)

    def __len__(self):
        return self.shape[0]

    def rows(self, index):
        """`index` (ints, any order) -> an array of those rows, in that order."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        out = np.empty((len(index),) + self.shape[1:], self.dtype)
        flat = out.reshape(len(index), -1).view(np.uint8).reshape(len(index), self.row_bytes)
        for k, i in enumerate(np.asarray(index, np.int64)):
            flat[k] = np.frombuffer(os.pread(self._fd, self.row_bytes, self.offset + int(i) * self.row_bytes), np.uint8)
        return out

    def chunks(self, size=4096):
        for start in range(0, len(self), size):
            yield self.rows(np.arange(start, min(start + size, len(self))))


def _npy_header(f, spec):
    try:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
    except Exception as exc:  # numpy raises several types for bad headers
        raise ValueError(f"dataset {spec!r}: not a readable .npy array: {exc}".splitlines()[0]) from None
    if fortran or dtype.hasobject:
        raise ValueError(f"dataset {spec!r}: streaming needs a C-ordered numeric array")
    return f.tell(), shape, dtype


_EXTRACTED = []


@atexit.register
def _remove_extracted():
    for folder in _EXTRACTED:
        shutil.rmtree(folder, ignore_errors=True)


def _npz_reader(path, spec):
    """``(reader of the images member, labels or None)`` for an `.npz`."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"dataset {spec!r}: cannot read {path}: {exc}".splitlines()[0]) from None
    with archive:
        keys = {n[:-4]: n for n in archive.namelist() if n.endswith(".npy")}
        image_key = next((k for k in files.IMAGE_KEYS if k in keys), None)
        if image_key is None:
            raise ValueError(f"dataset {spec!r}: .npz has no 'x' or 'images' array (found {sorted(keys)})")
        label_key = next((k for k in files.LABEL_KEYS if k in keys), None)
        labels = None
        if label_key is not None:
            with archive.open(keys[label_key]) as f:
                labels = np.lib.format.read_array(f, allow_pickle=False).reshape(-1)
        info = archive.getinfo(keys[image_key])
        if info.compress_type == zipfile.ZIP_STORED:
            with open(path, "rb") as f:
                f.seek(info.header_offset)
                local = f.read(30)
                name_len, extra_len = int.from_bytes(local[26:28], "little"), int.from_bytes(local[28:30], "little")
                f.seek(info.header_offset + 30 + name_len + extra_len)
                offset, shape, dtype = _npy_header(f, spec)
            return RowReader(path, offset, shape, dtype), labels
        folder = tempfile.mkdtemp(prefix="ktg_npz_")
        _EXTRACTED.append(folder)
        target = os.path.join(folder, image_key + ".npy")
        with archive.open(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    return RowReader.open_npy(target, spec), labels


def array_source(parsed, channels, limit, seed, labels, select_classes, order_fn):
    spec = parsed.text
    if parsed.name.lower().endswith(".npz"):
        reader, lab = _npz_reader(parsed.name, spec)
    else:
        reader, lab = RowReader.open_npy(parsed.name, spec), None
    shape = reader.shape
    files.check_image_shape(shape, spec)
    if lab is not None:
        lab = files.check_labels(lab, shape[0], spec)
    if labels and lab is None:
        raise ValueError(f"dataset {spec!r}: labels=True but this data has no labels")
    to_unit = _unit_range_map(reader, spec)
    index, lab = select_classes(np.arange(shape[0]), lab, parsed.classes, None, spec)
    chosen = selected_indices(len(index), limit, seed, order_fn)
    if chosen is None:
        raise ValueError(f"dataset {spec!r}: limit={limit} exceeds the {len(index)} images available")
    index, lab = index[chosen], (None if lab is None else lab[chosen])
    own = 1 if len(shape) == 3 else min(shape[-1], 3)
    hw = shape[1:3]

    def read(rows):
        images = reader.rows(rows)
        images = images[..., None] if images.ndim == 3 else images[..., :3]
        return to_unit(images)

    def decode(rows, label):
        images = tf.numpy_function(read, [rows], tf.float32)
        images.set_shape([None, *hw, own])
        return images, label

    elements = tf.data.Dataset.from_tensor_slices(
        (index.astype(np.int64), lab if lab is not None else np.zeros(len(index), np.int32)))
    return _Source(len(index), own, elements, decode, batched_decode=True), lab is not None


def _unit_range_map(reader, spec):
    """The map of the file's values to [0, 1], decided as `files._to_unit_range` does, in one pass of chunks."""
    if reader.dtype == np.uint8:
        return lambda a: a.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(reader.dtype, np.number):
        raise ValueError(f"dataset {spec!r}: array dtype {reader.dtype} is not numeric")
    lo, hi = np.inf, -np.inf
    for chunk in reader.chunks():
        chunk = chunk.astype(np.float32)
        if not np.all(np.isfinite(chunk)):
            raise ValueError(f"dataset {spec!r}: array contains NaN or Inf")
        lo, hi = min(lo, float(chunk.min())), max(hi, float(chunk.max()))
    probe = np.array([lo, hi], np.float32)
    files._to_unit_range(probe, spec)  # the same range checks and errors
    if lo < 0.0:
        return lambda a: (a.astype(np.float32) + 1.0) / 2.0
    if hi > 1.0:
        return lambda a: a.astype(np.float32) / np.float32(255.0)
    return lambda a: a.astype(np.float32)


# --------------------------------------------------------------------------------------------- TFDS
def tfds_selection(ds, parsed, label_key, num_classes, limit, seed, labels, order_fn, count_fn):
    """Filter `ds` (unbatched TFDS examples) to the class filter and the exact seeded `limit` subset over the
    whole split; returns ``(dataset, count)``."""
    spec = parsed.text
    if (labels or parsed.classes) and label_key is None:
        raise ValueError(f"dataset {spec!r}: this TFDS dataset has no class label")
    if parsed.classes is None and limit is None:
        return ds, count_fn()
    if parsed.classes is not None:
        bad = [c for c in parsed.classes if not isinstance(c, int) or c >= num_classes]
        if bad:
            raise ValueError(f"dataset {spec!r}: unknown class {bad[0]!r} (classes: 0-{num_classes - 1})")
        all_labels = np.fromiter(ds.map(lambda ex: tf.cast(ex[label_key], tf.int64)).as_numpy_iterator(), np.int64)
        candidates = np.flatnonzero(np.isin(all_labels, parsed.classes))
        total = len(all_labels)
    else:
        total = count_fn()
        candidates = np.arange(total)
    chosen = selected_indices(len(candidates), limit, seed, order_fn)
    if chosen is None:
        raise ValueError(f"dataset {spec!r}: limit={limit} exceeds the {len(candidates)} images available")
    keep = np.zeros(total, bool)
    keep[candidates[chosen]] = True
    keep = tf.constant(keep)
    ds = ds.enumerate().filter(lambda i, ex: tf.gather(keep, i)).map(lambda i, ex: ex)
    return ds, int(keep.numpy().sum())


def tfds_source(ds, image_key, label_key, count):
    """A `_Source` over (class-filtered, limited) TFDS examples."""
    channels = ds.element_spec[image_key].shape[-1]

    def split(ex):
        label = tf.cast(ex[label_key], tf.int32) if label_key is not None else tf.constant(0, tf.int32)
        return ex[image_key], label

    def decode(image, label):
        scale = 255.0 if image.dtype == tf.uint8 else 1.0
        return tf.cast(image, tf.float32) / scale, label

    return _Source(count, channels, ds.map(split), decode)
