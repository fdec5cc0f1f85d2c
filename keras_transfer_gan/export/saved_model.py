"""SavedModel export in TF Serving's versioned layout, written atomically, with warmup requests."""

import json
import os
import re

import keras
import tensorflow as tf

from keras_transfer_gan.export.signatures import build_signatures, example_inputs
from keras_transfer_gan.export.warmup import write_warmup_requests
from keras_transfer_gan.transfer.adaptation.lora import merge_lora
from keras_transfer_gan.transfer.loading.pretrained import EXPORT_METADATA  # read back by `load_pretrained`
from keras_transfer_gan.utils.atomic import atomic_directory, write_text
from keras_transfer_gan.utils.checks import check_positive_int

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def versions(model_dir):
    """The integer versions present in ``base_dir/name`` (what TF Serving would see), sorted."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(d) for d in os.listdir(model_dir)
                  if d.isdigit() and os.path.isdir(os.path.join(model_dir, d)))


def _archive(model, signatures):
    archive = keras.export.ExportArchive()
    archive.track(model)
    for sig in signatures.values():
        archive.add_endpoint(sig.name, tf.function(sig.fn, autograph=True), input_signature=sig.specs)
    # Every weight (D, EMA, statistics), in `model.weights` order: `load_pretrained` maps them back.
    archive.add_variable_collection("keras_variables", list(model.weights))
    return archive


def write_saved_model(model, directory, signatures=None):
    """Write a SavedModel with `signatures` (default: all of the model's) into `directory` (must not exist)."""
    signatures = signatures or build_signatures(model)
    _archive(model, signatures).write_out(directory, verbose=False)
    return signatures


def _check_writable(base_dir):
    probe = os.path.abspath(base_dir)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise ValueError(f"export: {probe!r} is a file, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"export: {probe!r} is not writable")


def export_saved_model(model, base_dir, name, version=None, overwrite=False, warmup=True):
    """Export `model` to ``base_dir/name/VERSION/`` with named serving signatures.

    The version is written into a hidden temporary sibling (``.tmp-...``,
    `atomic_directory`) and renamed into place when complete, so a TF Serving server polling
    ``base_dir/name`` never sees a half-written version.

    Args:
        model: a zoo model (GAN, conditional GAN, feature-backbone generator,
            VAE/CVAE, char LSTM or classifier; see `export.signatures`).
        base_dir: str. TF Serving's model base directory.
        name: str. The model's name under `base_dir`.
        version: positive int, or None for one more than the highest present.
        overwrite: bool. Replace an existing version (atomically) instead of refusing.
        warmup: bool. Write ``assets.extra/tf_serving_warmup_requests``.

    A model with LoRA factors (a diffusion model's `lora_rank`) is exported merged (`transfer.merge_lora`):
    the same function, plain kernels, no LoRA variables.

    Returns:
        The version directory's path.
    """
    model = merge_lora(model)
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"export: model name must be letters, digits, '_', '-' or '.', got {name!r}")
    check_positive_int(version, "version", "export", allow_none=True)
    signatures = build_signatures(model)  # fails early for a model that cannot be served
    _check_writable(base_dir)
    model_dir = os.path.join(base_dir, name)
    try:
        os.makedirs(model_dir, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"export: cannot create {model_dir!r}: {exc.strerror or exc}") from None
    if version is None:
        version = (versions(model_dir) or [0])[-1] + 1
    final = os.path.join(model_dir, str(version))
    if os.path.exists(final) and not overwrite:
        raise ValueError(f"export: version {version} of {name!r} exists at {final} (pass overwrite=True)")
    with atomic_directory(final, create=False) as staging:
        write_saved_model(model, staging, signatures)
        extra = os.path.join(staging, "assets.extra")
        os.makedirs(extra, exist_ok=True)
        metadata = {
            "family": model.family, "class": type(model).__name__,
            "config": keras.saving.serialize_keras_object(model),
            "shapes": [list(w.shape) for w in model.weights],
            "signatures": {s.name: {"inputs": [sp.name for sp in s.specs], "outputs": list(s.outputs)}
                           for s in signatures.values()},
        }
        with open(os.path.join(extra, EXPORT_METADATA), "w") as f:
            json.dump(metadata, f, default=str)
        if warmup:
            requests = [(s.name, example_inputs(model, s, n=1)) for s in signatures.values()]
            write_warmup_requests(os.path.join(extra, "tf_serving_warmup_requests"), name, requests)
    return final


def write_models_config(base_dir, serving_root="/models"):
    """Write ``base_dir/models.config`` listing every model folder, for ``--model_config_file``.

    `serving_root` is where `base_dir` is mounted in the server (the docker
    image's ``/models``). Returns the file's path.
    """
    if not os.path.isdir(base_dir):
        raise ValueError(f"write_models_config: no such directory {base_dir!r}")
    names = sorted(d for d in os.listdir(base_dir) if versions(os.path.join(base_dir, d)))
    lines = ["model_config_list {"]
    for name in names:
        lines += ["  config {", f'    name: "{name}"', f'    base_path: "{serving_root.rstrip("/")}/{name}"',
                  '    model_platform: "tensorflow"', "  }"]
    lines.append("}")
    return write_text(os.path.join(base_dir, "models.config"), "\n".join(lines) + "\n")
