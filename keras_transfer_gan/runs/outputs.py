"""What every run writes: the model file and samples (a PNG grid or text), atomically."""

import os

from keras_transfer_gan.data import load_images
from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.transfer.loading import load_pretrained
from keras_transfer_gan.utils.atomic import atomic_path, write_text
from keras_transfer_gan.utils.images import save_grid


def save_model(model, out):
    """``out/model.keras``, written through a temporary name and a rename; returns the path."""
    path = os.path.join(out, "model.keras")
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
    return path


def load_source(source, safe_mode=True):
    """A zoo name, a model file, a `ktg train` / `ktg transfer` directory or a SavedModel export."""
    if os.path.isdir(source) and os.path.isfile(os.path.join(source, "model.keras")):
        source = os.path.join(source, "model.keras")
    return load_pretrained(source, safe_mode=safe_mode)


def write_samples(model, path, n, seed=0, conditions=None, **options):
    """`n` samples of `model` to `path`: text for a text model, else a PNG grid. Returns the path."""
    samples = model.sample(n, conditions=conditions, seed=seed, **options)
    if model.generates == "text":
        return write_text(path, samples)
    return save_grid(samples, path)


def sample_run(source, out, n=64, seed=0, dataset="digits", data_dir=None, prompt="The ", length=400,
               temperature=0.8, safe_mode=True, truncation=None, steps=None, eta=None):
    """What `ktg sample` does: samples of a trained model to `out` (a PNG grid, or text for a text model).

    A text model continues `prompt` by `length` characters; a model that generates from images samples from
    the first `n` images of `dataset`; a label-conditioned one cycles through its classes. `truncation`
    (StyleGAN2's psi), `steps` and `eta` (a diffusion model's sampler) go to a model that declares them among
    its `sample_options`; given to another, each is a one-line error.
    """
    model = load_source(source, safe_mode)
    if not isinstance(model, Architecture) or model.generates is None:
        raise ValueError(f"--model: {type(model).__name__} cannot generate images")
    options = {}
    for name, value, kind in (("truncation", truncation, float), ("steps", steps, int), ("eta", eta, float)):
        if value is None:
            continue
        if name not in model.sample_options:
            raise ValueError(f"--{name}: {type(model).__name__} does not take {name} (its sample options: "
                             f"{', '.join(model.sample_options) or 'none'})")
        options[name] = kind(value)
    if model.generates == "text":
        return write_samples(model, out, length, seed, conditions=prompt, temperature=temperature)
    conditions = None
    if model.conditions == "images":
        conditions, _ = load_images(dataset, image_size=model.image_size, channels=model.channels, limit=n,
                                    seed=seed, data_dir=data_dir)
    return write_samples(model, out, n, seed, conditions=conditions, **options)
