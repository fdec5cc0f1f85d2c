"""`SampleGrid`: a PNG grid of samples from fixed noise after each epoch."""

import os

import keras
import numpy as np

from keras_transfer_gan.utils.images import save_grid


def sample_images(model, n, seed=0, conditions=None):
    """`n` samples, the same for the same `seed` (or one per conditioning image), as numpy in [-1, 1].

    Asks the model (`Architecture.sample(n, conditions, seed)`): whatever its generator's inputs (noise, labels,
    a timestep, per-layer noise), the model knows how to draw them from `seed`."""
    if conditions is not None:
        conditions = np.asarray(conditions)[:n]
        n = len(conditions)
    return np.asarray(model.sample(n, conditions=conditions, seed=seed))


class SampleGrid(keras.callbacks.Callback):
    """Write ``samples_epochNNN.png`` (and ``samples.png``, the latest) to `out_dir`.

    The seed is fixed at construction, so successive grids show the same
    latent points as training goes on. Works with `fit` and `Trainer`.

    Args:
        out_dir: str. Where the PNG files go.
        n: int. Number of samples. Defaults to 64.
        seed: int. Seed for the fixed noise. Defaults to 0.
        every: int. Write every `every` epochs. Defaults to 1.
        conditions: images or None. For models that generate from images
            (`FeatureBackboneGenerator`): one sample per conditioning image.
    """

    def __init__(self, out_dir, n=64, seed=0, every=1, conditions=None):
        super().__init__()
        self.out_dir, self.n, self.seed, self.every = out_dir, n, seed, max(1, int(every))
        self.conditions = conditions
        self.paths = []

    def write(self, name):
        images = sample_images(self.model, self.n, self.seed, self.conditions)
        path = save_grid(images, os.path.join(self.out_dir, name))
        save_grid(images, os.path.join(self.out_dir, "samples.png"))
        self.paths.append(path)
        return path

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.write(f"samples_epoch{epoch + 1:03d}.png")
