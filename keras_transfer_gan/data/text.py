"""Text corpora and next-character datasets for the text models.

Corpus specs for `load_text`::

    pydocs          the docstrings of 73 standard-library modules and their public
                    members: a large, general source domain (about 350,000 characters)
    pylicense       the Python license (LICENSE.txt of the running interpreter): a
                    small, clearly different target domain (legal prose)
    PATH.txt        any UTF-8 text file
    tfds:NAME[:SPLIT]   a TensorFlow Datasets dataset with a text feature
                    (e.g. tfds:tiny_shakespeare)
"""

import functools
import importlib
import inspect
import os
import sysconfig

import numpy as np
import tensorflow as tf

# A fixed list, so the corpus is the same on every machine with the same Python.
_PYDOC_MODULES = (
    "abc argparse array ast asyncio base64 bisect calendar cmd collections colorsys contextlib copy csv "
    "dataclasses datetime decimal difflib email.message enum fnmatch fractions functools getopt gettext "
    "glob gzip hashlib heapq hmac html http.client inspect io ipaddress itertools json logging math "
    "mimetypes numbers operator optparse os pathlib pickle pprint queue random re sched secrets shlex "
    "shutil socket statistics string struct subprocess tarfile tempfile textwrap threading timeit "
    "tokenize types typing unittest urllib.parse uuid warnings weakref zipfile"
).split()

BUILTIN_CORPORA = ("pydocs", "pylicense")


@functools.lru_cache(maxsize=None)
def pydocs_corpus():
    """Docstrings of `_PYDOC_MODULES` and their public members, in a fixed order."""
    parts = []
    for name in _PYDOC_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a platform without the module: skip it
            continue
        doc = inspect.getdoc(module)
        if doc:
            parts.append(doc)
        for member_name in sorted(vars(module)):
            if member_name.startswith("_"):
                continue
            member = getattr(module, member_name)
            if getattr(member, "__module__", None) != module.__name__:
                continue
            doc = inspect.getdoc(member)
            if doc and len(doc) > 40:
                parts.append(doc)
    return "\n\n".join(parts)


def _license_path():
    return os.path.join(sysconfig.get_paths()["stdlib"], "LICENSE.txt")


@functools.lru_cache(maxsize=None)
def license_corpus():
    """The Python license text that ships with the interpreter."""
    path = _license_path()
    if not os.path.isfile(path):
        raise ValueError(f"text 'pylicense': this Python ships no {path}")
    with open(path, encoding="utf-8") as f:
        return f.read()


def _tfds_text(name, split, data_dir, max_chars):
    import tensorflow_datasets as tfds

    spec = f"tfds:{name}"
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as exc:
        raise ValueError(f"text {spec!r}: unknown TFDS dataset: {exc}".splitlines()[0]) from None
    key = next((k for k, f in builder.info.features.items() if isinstance(f, tfds.features.Text)), None)
    if key is None:
        raise ValueError(f"text {spec!r}: the dataset has no text feature")
    try:
        ds = tfds.load(name, split=split, data_dir=data_dir)
    except Exception as exc:
        raise ValueError(f"text {spec!r}: could not load split {split!r}: {exc}".splitlines()[0]) from None
    parts, total = [], 0
    for example in ds.as_numpy_iterator():
        value = example[key]
        parts.append(value.decode("utf-8") if isinstance(value, bytes) else str(value))
        total += len(parts[-1])
        if max_chars and total >= max_chars:
            break
    return "\n".join(parts)


def load_text(spec, max_chars=None, split="train", data_dir=None):
    """Load a text corpus by spec (see the module docstring).

    Args:
        spec: str. ``pydocs``, ``pylicense``, a ``.txt`` path or ``tfds:NAME[:SPLIT]``.
        max_chars: int or None. Keep at most this many characters.
        split: str. TFDS split when the spec names none.
        data_dir: str or None. TFDS data directory.
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"text {spec!r}: a text spec must be a non-empty string")
    if max_chars is not None and (not isinstance(max_chars, int) or max_chars <= 0):
        raise ValueError(f"text {spec!r}: max_chars must be a positive integer, got {max_chars!r}")
    if spec == "pydocs":
        text = pydocs_corpus()
    elif spec == "pylicense":
        text = license_corpus()
    elif spec.startswith("tfds:"):
        parts = spec[5:].split(":")
        text = _tfds_text(parts[0], parts[1] if len(parts) > 1 else split, data_dir, max_chars)
    elif os.path.isfile(spec):
        try:
            with open(spec, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            raise ValueError(f"text {spec!r}: not UTF-8 text") from None
    else:
        raise ValueError(
            f"text {spec!r}: unknown corpus (built-in: {', '.join(BUILTIN_CORPORA)}; or a .txt file, tfds:NAME)"
        )
    if not text:
        raise ValueError(f"text {spec!r}: the corpus is empty")
    return text[:max_chars] if max_chars else text


def text_dataset(text, vocabulary, seq_len=64, batch_size=64, seed=0, shuffle=True, drop_remainder=True):
    """Next-character windows: ``(x, y)`` int32 ``[batch, seq_len]`` with ``y`` = ``x`` shifted by one.

    Windows start every `seq_len` characters; with `shuffle`, their order is
    reshuffled each epoch (seeded).
    """
    if seq_len < 1 or batch_size < 1:
        raise ValueError(f"text_dataset: seq_len and batch_size must be positive, got {seq_len}, {batch_size}")
    ids = vocabulary.encode(text)
    n = (len(ids) - 1) // seq_len
    if n < 1 or (drop_remainder and n < batch_size):
        raise ValueError(
            f"text_dataset: {len(ids)} characters make {n} windows of {seq_len}, fewer than a batch of {batch_size}"
        )
    x = ids[: n * seq_len].reshape(n, seq_len)
    y = ids[1 : n * seq_len + 1].reshape(n, seq_len)
    ds = tf.data.Dataset.from_tensor_slices((x.astype(np.int32), y.astype(np.int32)))
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
