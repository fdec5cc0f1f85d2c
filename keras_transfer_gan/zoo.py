"""The zoo: pretrained checkpoints in `saved_models/NAME/`, their configs and cards in `zoo/NAME/`.

Each checkpoint directory holds ``model.keras``, ``model.keras.sha256`` (the
file's SHA-256, checked before every load) and ``config.json`` (the zoo config
that trained it). `tools/train_zoo.py NAME` rebuilds one from ``zoo/NAME/config.json``.

An installed package carries the zoo in ``keras_transfer_gan/zoo_data/`` (``checkpoints/`` and
``cards/``, copied there when the wheel is built); an editable install finds ``saved_models/`` and
``zoo/`` in the source tree. ``KTG_ZOO_DIR`` points elsewhere (a directory of ``NAME/`` folders).
"""

import hashlib
import json
import os

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_PACKAGE)


def _installed(part):
    path = os.path.join(_PACKAGE, "zoo_data", part)
    return path if os.path.isdir(path) else None


def zoo_dir():
    """The directory holding the checkpoints: ``$KTG_ZOO_DIR``, the installed package's, or the tree's
    ``saved_models/``."""
    return os.environ.get("KTG_ZOO_DIR") or _installed("checkpoints") or os.path.join(_ROOT, "saved_models")


def cards_dir():
    """The directory holding zoo configs and model cards: the installed package's, or the tree's ``zoo/``."""
    return _installed("cards") or os.path.join(_ROOT, "zoo")


def list_zoo():
    """Names of the checkpoints present, sorted."""
    root = zoo_dir()
    if not os.path.isdir(root):
        return []
    return sorted(n for n in os.listdir(root) if os.path.isfile(os.path.join(root, n, "model.keras")))


def is_zoo_name(name):
    return isinstance(name, str) and name in list_zoo()


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def zoo_config(name):
    """The config that trained checkpoint `name` (``saved_models/NAME/config.json``)."""
    path = os.path.join(zoo_dir(), _checked_name(name), "config.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise ValueError(f"zoo checkpoint {name!r}: cannot read its config.json: {exc}") from None


def zoo_card(name):
    """The model card's markdown text (``zoo/NAME/MODEL_CARD.md``)."""
    name = _checked_name(name)
    path = os.path.join(cards_dir(), name, "MODEL_CARD.md")
    if not os.path.isfile(path):  # a checkpoint directory may carry its own card
        path = os.path.join(zoo_dir(), name, "MODEL_CARD.md")
    if not os.path.isfile(path):
        raise ValueError(f"zoo checkpoint {name!r} has no model card at {path}")
    with open(path, encoding="utf-8") as f:
        return f.read()


def zoo_path(name, verify=True):
    """The checkpoint's ``model.keras`` path, verified against its recorded SHA-256.

    Raises:
        ValueError: unknown name, a missing checksum file or a checksum mismatch
            (a corrupted or replaced file is never loaded silently).
    """
    directory = os.path.join(zoo_dir(), _checked_name(name))
    path = os.path.join(directory, "model.keras")
    if verify:
        try:
            with open(path + ".sha256") as f:
                expected = f.read().split()[0].strip().lower()
        except (OSError, IndexError):
            raise ValueError(f"zoo checkpoint {name!r}: no checksum file {path}.sha256") from None
        actual = sha256_of(path)
        if actual != expected:
            raise ValueError(f"zoo checkpoint {name!r}: checksum mismatch for {path} "
                             f"(expected {expected[:12]}..., got {actual[:12]}...): the file is corrupt or replaced")
    return path


def _checked_name(name):
    names = list_zoo()
    if name not in names:
        raise ValueError(f"unknown zoo checkpoint {name!r} (available: {', '.join(names) or 'none'})")
    return name


def zoo_table():
    """Rows ``(name, model, data, size MB, card summary)`` for `ktg zoo list`."""
    rows = []
    for name in list_zoo():
        try:
            config = zoo_config(name)
        except ValueError:
            config = {}
        size = os.path.getsize(os.path.join(zoo_dir(), name, "model.keras")) / 1e6
        rows.append((name, config.get("model", "?"), config.get("dataset", "?"), f"{size:.2f}",
                     config.get("description", "")))
    return rows
