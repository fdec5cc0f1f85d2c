"""`RunCache`: finished study runs on disk, keyed by everything that changes a result.

A run is reused only when its key matches: the arm (method and its hyperparameters), the source's SHA-256
(its file, or its weights for a model in memory), the data spec and the few-shot draw (a digest of the very
images), the schedule and batch, the reference, both evaluators' weights, and a digest of the code that
trains and measures (the package's models, layers, losses, data, training, transfer, tasks, metrics, study
and utils sources, and its registry, factory and zoo modules). A changed setting, checkpoint, draw or code
re-runs; nothing stale is read.
"""

import hashlib
import json
import os
import pathlib

from keras_transfer_gan.utils.atomic import write_text

#: The sub-packages whose code decides a run's figures.
CODE_PARTS = ("models", "layers", "losses", "data", "training", "transfer", "tasks", "metrics", "study", "utils",
              "registry.py", "factory.py", "zoo.py")
_PACKAGE = pathlib.Path(__file__).resolve().parent.parent


def code_digest(parts=CODE_PARTS):
    """SHA-256 over the source files of `parts` (path and content, in a fixed order), hex."""
    digest = hashlib.sha256()
    for part in parts:
        paths = [_PACKAGE / part] if part.endswith(".py") else sorted((_PACKAGE / part).rglob("*.py"))
        for path in paths:
            digest.update(str(path.relative_to(_PACKAGE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class RunCache:
    """Finished runs under `directory`, one JSON file per key (``LABEL-nN-sSEED-METHOD-KEYHASH.json``)."""

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    @staticmethod
    def key_hash(key):
        return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()

    def path(self, key):
        name = f"{key['target']}-n{key['n']}-s{key['seed']}-{key['method']}-{self.key_hash(key)[:16]}.json"
        return os.path.join(self.directory, name.replace("/", "_"))

    def get(self, key):
        """The finished run stored under exactly `key`, or None."""
        try:
            with open(self.path(key)) as f:
                saved = json.load(f)
        except (OSError, ValueError):
            return None
        return saved["run"] if saved.get("key") == json.loads(json.dumps(key, default=str)) else None

    def put(self, key, run):
        write_text(self.path(key), json.dumps({"key": key, "run": run}, default=str))
