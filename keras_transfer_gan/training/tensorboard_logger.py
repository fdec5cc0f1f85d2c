"""`TensorBoardLogger`: epoch scalars and a sample image grid for TensorBoard."""

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.training.sample_grid import sample_images
from keras_transfer_gan.utils.images import make_grid


class TensorBoardLogger(keras.callbacks.Callback):
    """Log every metric and a grid of samples (fixed noise) at the end of each epoch.

    Keras' own `TensorBoard` callback reads `model.optimizer`, which a GAN
    (two optimizers) does not have; this one works with `fit` and `Trainer`.

    Args:
        log_dir: str. The summary directory (``tensorboard --logdir``).
        n_images: int. Samples in the logged grid; 0 logs scalars only. Defaults to 16.
        seed: int. Seed for the fixed noise. Defaults to 0.
        conditions: images or None, as for `SampleGrid`.
    """

    def __init__(self, log_dir, n_images=16, seed=0, conditions=None):
        super().__init__()
        self.log_dir, self.n_images, self.seed = log_dir, n_images, seed
        self.conditions = conditions
        self._writer = None

    def on_train_begin(self, logs=None):
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        if self._writer is None:
            self.on_train_begin()
        with self._writer.as_default(step=epoch + 1):
            for name, value in (logs or {}).items():
                tf.summary.scalar(name, float(np.mean(value)))
            if self.n_images and self.model.generates == "images":
                grid = make_grid(sample_images(self.model, self.n_images, self.seed, self.conditions))
                tf.summary.image("samples", grid[None])
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
