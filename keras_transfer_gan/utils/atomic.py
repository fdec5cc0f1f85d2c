"""Writes that are never half-done: a temporary sibling, then a rename (atomic on one filesystem)."""

import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary sibling of `path` to write; on success it replaces `path`, on failure it is removed.

    `suffix` keeps an extension that a writer insists on (``.keras``, ``.npy``, ``.png``).

    Example:
    >>> with atomic_path("model.keras", suffix=".keras") as tmp:
    ...     model.save(tmp)
    """
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{name}.tmp-{os.getpid()}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path, text):
    """Write `text` (UTF-8) to `path` atomically; returns the path."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    return path


@contextlib.contextmanager
def atomic_directory(path, overwrite=True, create=True):
    """Yield a temporary sibling directory to fill; on success it takes `path`'s place.

    With ``create=False`` the yielded path does not exist yet, for writers that
    create their directory themselves (``tf.saved_model.save``).

    An existing `path` is swapped out and removed after the rename (refused
    with ``overwrite=False``), so a reader sees the old directory or the new
    one, never a half-written one. On failure nothing changes.
    """
    parent, name = os.path.split(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=parent)
    staging = os.path.join(tmp, name)
    try:
        if create:
            os.mkdir(staging)
        yield staging
        if os.path.exists(path):
            if not overwrite:
                raise ValueError(f"{path} exists")
            os.replace(path, os.path.join(tmp, "old"))
        os.replace(staging, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
