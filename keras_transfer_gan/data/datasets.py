"""`load_dataset`: one entry point from a dataset spec string to a `tf.data.Dataset`.

Spec grammar::

    digits | faces | digits_m            toy data shipped inside packages (split "train" only)
    fashion_mnist | mnist | mnist_m | fashion_sketch   real data, splits "train" and "test" (see `mnist_family`)
    NAME:CLASSES                         a class filter, e.g. ``digits:0-4``, ``digits:5,7``
    tfds:NAME[:SPLIT[:CLASSES]]          any TensorFlow Datasets dataset (``data_dir`` honoured)
    PATH/TO/FOLDER[:CLASSES]             image files, or class sub-folders
    PATH/TO/FILE.npy | FILE.npz          arrays (``x``/``images`` and optional ``y``/``labels``)

Every problem with a spec raises ``ValueError`` with a one-line message that
names the spec and what is wrong.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from keras_transfer_gan.data import builtin, files, mnist_family, streaming
from keras_transfer_gan.utils.checks import check_positive_int

BUILTIN_NAMES = tuple(builtin.BUILTIN)


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A parsed dataset spec: `kind` is builtin, tfds, folder or array."""

    text: str
    kind: str
    name: str
    split: str | None = None
    classes: tuple | None = None


def _parse_classes(token, spec):
    if token is None or token == "":
        return None
    classes = []
    for part in token.split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"dataset {spec!r}: empty class in filter {token!r}")
        if "-" in part and all(p.strip().isdigit() for p in part.split("-", 1)):
            lo, hi = (int(p) for p in part.split("-", 1))
            if lo > hi:
                raise ValueError(f"dataset {spec!r}: class range {part!r} is empty")
            classes.extend(range(lo, hi + 1))
        elif part.isdigit():
            classes.append(int(part))
        else:
            classes.append(part)  # a class name (folders)
    return tuple(dict.fromkeys(classes))


def parse_spec(spec):
    """Parse a dataset spec string into a `DatasetSpec` (no data is read)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"dataset {spec!r}: a dataset spec must be a non-empty string")
    spec = spec.strip()
    if spec.startswith("tfds:"):
        parts = spec[len("tfds:"):].split(":")
        if not parts[0] or len(parts) > 3:
            raise ValueError(f"dataset {spec!r}: expected tfds:NAME[:SPLIT[:CLASSES]]")
        split = parts[1] if len(parts) > 1 and parts[1] else None
        classes = _parse_classes(parts[2], spec) if len(parts) > 2 else None
        return DatasetSpec(spec, "tfds", parts[0], split, classes)
    path, classes = spec, None
    if not os.path.exists(path) and ":" in spec:
        head, tail = spec.rsplit(":", 1)
        path, classes = head, _parse_classes(tail, spec)
    if os.path.isdir(path):
        return DatasetSpec(spec, "folder", path, None, classes)
    if os.path.isfile(path):
        if not path.lower().endswith((".npy", ".npz")):
            raise ValueError(f"dataset {spec!r}: a file spec must be a .npy or .npz array")
        return DatasetSpec(spec, "array", path, None, classes)
    if path in BUILTIN_NAMES:
        return DatasetSpec(spec, "builtin", path, None, classes)
    if path.endswith((".npy", ".npz")) or os.sep in path:
        raise ValueError(f"dataset {spec!r}: no such file or folder {path!r}")
    raise ValueError(
        f"dataset {spec!r}: unknown dataset {path!r} (built-in: {', '.join(BUILTIN_NAMES)}; "
        "or tfds:NAME, a folder, a .npy/.npz file)"
    )


def reference_split(spec):
    """The split metric references come from: ``"test"`` where the data has one (the real built-in sets,
    never trained on), else ``"train"``; a ``tfds:NAME:SPLIT`` spec names its own."""
    parsed = parse_spec(spec)
    if parsed.kind == "builtin" and parsed.name in mnist_family.LOADERS:
        return "test"
    return parsed.split or "train"


def _select_classes(images, labels, classes, class_names, spec):
    if classes is None:
        return images, labels
    if labels is None:
        raise ValueError(f"dataset {spec!r}: a class filter needs labels, and this data has none")
    wanted = []
    for c in classes:
        if isinstance(c, str):
            if class_names is None or c not in class_names:
                known = ", ".join(class_names) if class_names else "integers only"
                raise ValueError(f"dataset {spec!r}: unknown class {c!r} (classes: {known})")
            c = class_names.index(c)
        wanted.append(c)
    present = np.unique(labels)
    missing = [c for c in wanted if c not in present]
    if missing:
        raise ValueError(
            f"dataset {spec!r}: unknown class {missing[0]} (classes present: "
            f"{int(present.min())}-{int(present.max())})"
        )
    keep = np.isin(labels, wanted)
    return images[keep], labels[keep]


def _subset_order(n, seed):
    """The seeded order few-shot subsets are drawn in: a subset of `limit` is its first `limit` indices."""
    return np.random.default_rng(seed).permutation(n)


def _subset(images, labels, limit, seed, spec):
    if limit is None:
        return images, labels
    if limit > len(images):
        raise ValueError(f"dataset {spec!r}: limit={limit} exceeds the {len(images)} images available")
    index = np.sort(_subset_order(len(images), seed)[:limit])
    return images[index], (None if labels is None else labels[index])


def _check_args(spec, image_size, channels, batch_size, limit):
    check_positive_int(image_size, "image_size", f"dataset {spec!r}")
    if channels not in (None, 1, 3):
        raise ValueError(f"dataset {spec!r}: channels must be 1, 3 or None, got {channels!r}")
    check_positive_int(batch_size, "batch_size", f"dataset {spec!r}")
    check_positive_int(limit, "limit", f"dataset {spec!r}", allow_none=True)


def preprocess(images, image_size, channels):
    """Resize to `image_size`, convert channels, and map [0, 1] to [-1, 1] (TF ops). Images of a size known
    only at run time (a streamed folder's) are resized only where they differ."""
    images = tf.convert_to_tensor(images, tf.float32)
    if channels is not None and images.shape[-1] != channels:
        if channels == 3:
            images = tf.image.grayscale_to_rgb(images)
        else:
            images = tf.image.rgb_to_grayscale(images)
    if images.shape[-3] is None or images.shape[-2] is None:
        shape = tf.shape(images)
        same = tf.logical_and(tf.equal(shape[-3], image_size), tf.equal(shape[-2], image_size))
        images = tf.cond(same, lambda: images,
                         lambda: tf.image.resize(images, (image_size, image_size), antialias=True))
        images.set_shape(images.shape[:-3].concatenate([image_size, image_size, images.shape[-1]]))
    elif images.shape[-3] != image_size or images.shape[-2] != image_size:
        images = tf.image.resize(images, (image_size, image_size), antialias=True)
    return tf.clip_by_value(images, 0.0, 1.0) * 2.0 - 1.0


def _tfds_source(parsed, split, data_dir, download):
    import tensorflow_datasets as tfds

    spec = parsed.text
    split = parsed.split or split
    try:
        builder = tfds.builder(parsed.name, data_dir=data_dir)
    except Exception as exc:  # DatasetNotFoundError and friends
        raise ValueError(f"dataset {spec!r}: unknown TFDS dataset {parsed.name!r}: {exc}".splitlines()[0]) from None
    features = builder.info.features
    image_key = next((k for k, f in features.items() if isinstance(f, tfds.features.Image)), None)
    if image_key is None:
        raise ValueError(f"dataset {spec!r}: TFDS dataset {parsed.name!r} has no image feature")
    label_key = next((k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)), None)
    try:
        ds = tfds.load(parsed.name, split=split, data_dir=data_dir, download=download)
    except Exception as exc:
        raise ValueError(
            f"dataset {spec!r}: could not load TFDS split {split!r} (offline? prepare it with "
            f"`tfds build {parsed.name}` or pass data_dir): {exc}".splitlines()[0]
        ) from None
    num_classes = features[label_key].num_classes if label_key else None
    return ds, image_key, label_key, num_classes


def _tfds_selected(parsed, split, data_dir, download, limit, seed, labels):
    """The TFDS examples of the class filter and the exact seeded `limit` subset over the whole split."""
    ds, image_key, label_key, num_classes = _tfds_source(parsed, split, data_dir, download)

    def count():
        known = int(ds.cardinality())  # TFDS states its splits' sizes
        return known if known >= 0 else int(ds.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))

    ds, n = streaming.tfds_selection(ds, parsed, label_key, num_classes, limit, seed, labels, _subset_order, count)
    if n == 0:
        raise ValueError(f"dataset {parsed.text!r}: the selection holds no images")
    return ds, image_key, label_key, n


def _tfds_arrays(parsed, split, data_dir, download, limit, seed, labels):
    """Materialise a (filtered, seeded) TFDS subset as numpy arrays."""
    ds, image_key, label_key, _ = _tfds_selected(parsed, split, data_dir, download, limit, seed, labels)
    spec = parsed.text
    images, label_list = [], []
    for ex in ds.as_numpy_iterator():
        images.append(ex[image_key])
        if label_key is not None:
            label_list.append(ex[label_key])
    array = files._as_nhwc(np.stack(images), spec)
    lab = np.asarray(label_list, np.int32) if label_key is not None else None
    return files._to_unit_range(array, spec), lab


def load_images(
    spec,
    image_size=32,
    channels=None,
    limit=None,
    seed=0,
    labels=False,
    split="train",
    data_dir=None,
    download=True,
):
    """Load a dataset spec into memory.

    Returns:
        ``(images, labels)``: float32 numpy images in [-1, 1], shaped
        ``(N, image_size, image_size, C)``, and int32 labels (``None`` unless
        ``labels=True``). Arguments are those of `load_dataset`.
    """
    parsed = parse_spec(spec)
    _check_args(spec, image_size, channels, 1, limit)
    if parsed.kind == "tfds":
        images, lab = _tfds_arrays(parsed, split, data_dir, download, limit, seed, labels)
    else:
        if parsed.kind == "builtin":
            images, lab, class_names = builtin.load_builtin(parsed.name, split, download, spec)
        elif parsed.kind == "array":
            images, lab, class_names = files.load_array(parsed.name, spec)
        else:
            images, lab, class_names = files.load_folder(parsed.name, spec)
        if labels and lab is None:
            raise ValueError(f"dataset {spec!r}: labels=True but this data has no labels")
        images, lab = _select_classes(images, lab, parsed.classes, class_names, spec)
        images, lab = _subset(images, lab, limit, seed, spec)
    out = preprocess(images, image_size, channels or images.shape[-1]).numpy()
    return out, (lab if labels else None)


def few_shot_split(spec, limit, held_out=500, image_size=32, channels=None, seed=0, split="train", data_dir=None,
                   download=True):
    """A few-shot subset and held-out images of the same split, never sharing an image.

    The subset is exactly ``load_images(spec, limit=limit, seed=seed)``; the
    held-out images are up to `held_out` others from the same split, in a
    seeded draw (for best-checkpoint selection and memorisation checks, never
    for the final measurement, whose reference comes from the test split).

    Returns:
        ``(subset, held_out_images)``, float32 arrays in [-1, 1].
    """
    everything, _ = load_images(spec, image_size, channels, split=split, data_dir=data_dir, download=download)
    subset, _ = load_images(spec, image_size, channels, limit=limit, seed=seed, split=split, data_dir=data_dir,
                            download=download)
    rest = _subset_order(len(everything), seed)[limit:limit + held_out]
    return subset, everything[np.sort(rest)]


def load_dataset(
    spec,
    image_size=32,
    channels=None,
    batch_size=64,
    limit=None,
    seed=0,
    labels=False,
    split="train",
    shuffle=True,
    drop_remainder=False,
    repeat=False,
    data_dir=None,
    download=True,
    stream="auto",
):
    """Build a batched, prefetched `tf.data.Dataset` from a dataset spec.

    Args:
        spec: str. A dataset spec (see the module docstring), e.g. ``"digits:5-9"``.
        image_size: int. Output height and width. Defaults to 32.
        channels: int or None. 1 or 3 converts gray <-> RGB; None keeps the
            data's own. Defaults to None.
        batch_size: int. Defaults to 64.
        limit: int or None. Take a fixed few-shot subset of this many images,
            chosen by `seed`. Defaults to None (everything).
        seed: int. Seeds the subset and the shuffle order. Defaults to 0.
        labels: bool. Yield ``(images, labels)`` with int32 labels. Defaults to False.
        split: str. ``"train"`` or ``"test"`` for the real built-in sets (few-shot
            subsets come from train, metric references from test), any split for
            TFDS (or ``tfds:NAME:SPLIT``); the toy sets have only ``"train"``.
            Defaults to ``"train"``.
        shuffle: bool. Shuffle each epoch (seeded). Defaults to True.
        drop_remainder: bool. Drop the last partial batch. Defaults to False.
        repeat: bool. Repeat forever. Defaults to False.
        data_dir: str or None. TFDS data directory. Defaults to TFDS' own.
        download: bool. Let TFDS, or Keras' MNIST / Fashion-MNIST loaders, download
            missing data (local files are always tried first). Defaults to True.
        stream: ``"auto"`` (or True) streams folders, ``.npy``/``.npz`` arrays and TFDS through
            `tf.data` (decoding, resizing and scaling in the pipeline; nothing materialised, see
            `streaming`); False loads them into memory first (`load_images`). The built-in sets are
            always in memory. Both give the same images, the same `limit` subset and the same order
            for a seed (a folder of mixed-size images is resized straight to `image_size` when
            streamed, and takes its channels from its first image unless `channels` is given).
            Defaults to ``"auto"``.

    Returns:
        A `tf.data.Dataset` of float32 images in [-1, 1] shaped
        ``(batch, image_size, image_size, C)``, or ``(images, labels)`` pairs.

    Example:
    >>> ds = load_dataset("digits:0-4", image_size=32, batch_size=16, limit=100)
    >>> next(iter(ds)).shape
    TensorShape([16, 32, 32, 1])
    """
    _check_args(spec, image_size, channels, batch_size, limit)
    if stream not in ("auto", True, False):
        raise ValueError(f"dataset {spec!r}: stream must be 'auto', True or False, got {stream!r}")
    parsed = parse_spec(spec)
    if stream and parsed.kind in ("folder", "array", "tfds"):
        return _streamed(parsed, image_size, channels, batch_size, limit, seed, labels, split, shuffle,
                         drop_remainder, repeat, data_dir, download)
    images, lab = load_images(
        spec, image_size, channels, limit, seed, labels, split, data_dir, download
    )
    ds = tf.data.Dataset.from_tensor_slices((images, lab) if labels else images)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if drop_remainder and not repeat and len(images) < batch_size:
        raise ValueError(
            f"dataset {spec!r}: {len(images)} images make no full batch of {batch_size}"
        )
    return ds.prefetch(tf.data.AUTOTUNE)


#: Shuffle buffer of streamed TFDS examples (folders and arrays shuffle their whole index instead).
TFDS_SHUFFLE_BUFFER = 10_000


def _streamed(parsed, image_size, channels, batch_size, limit, seed, labels, split, shuffle, drop_remainder, repeat,
              data_dir, download):
    spec = parsed.text
    if parsed.kind == "folder":
        source, has_labels = streaming.folder_source(parsed, channels, limit, seed, labels, _select_classes,
                                                     _subset_order)
    elif parsed.kind == "array":
        source, has_labels = streaming.array_source(parsed, channels, limit, seed, labels, _select_classes,
                                                    _subset_order)
    else:
        ds, image_key, label_key, n = _tfds_selected(parsed, split, data_dir, download, limit, seed, labels)
        if limit is not None:
            ds = ds.cache()  # a few-shot subset: scan the split once, not every epoch
        source, has_labels = streaming.tfds_source(ds, image_key, label_key, n), label_key is not None
    if drop_remainder and not repeat and source.count < batch_size:
        raise ValueError(f"dataset {spec!r}: {source.count} images make no full batch of {batch_size}")
    want = channels or source.channels

    def finish(images, label):
        images = preprocess(images, image_size, want)
        return (images, label) if labels else images

    ds = source.elements
    if shuffle:
        buffer = source.count if parsed.kind != "tfds" else min(source.count, TFDS_SHUFFLE_BUFFER)
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if source.batched_decode:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        ds = ds.map(lambda rows, label: finish(*source.decode(rows, label)), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda element, label: finish(*source.decode(element, label)),
                    num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if labels and not has_labels:
        raise ValueError(f"dataset {spec!r}: labels=True but this data has no labels")
    return ds.prefetch(tf.data.AUTOTUNE)
