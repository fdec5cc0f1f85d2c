"""Images: [-1, 1] float batches to uint8 tiles and PNG files; matching a model's input size and channels."""

import math
import os

import numpy as np
import tensorflow as tf

from keras_transfer_gan.utils.atomic import atomic_path


def match_input(images, image_size, channels):
    """Images resized to `image_size` (if given) and converted to `channels`: gray repeated, colour averaged."""
    x = tf.convert_to_tensor(np.asarray(images, np.float32))
    if image_size and tuple(x.shape[1:3]) != (image_size, image_size):
        x = tf.image.resize(x, (image_size, image_size))
    if channels == 3 and x.shape[-1] == 1:
        x = tf.repeat(x, 3, axis=-1)
    elif channels == 1 and x.shape[-1] == 3:
        x = tf.reduce_mean(x, axis=-1, keepdims=True)
    return x


def to_uint8(images):
    """Map float images in [-1, 1] to uint8 [0, 255]."""
    images = np.asarray(images, np.float32)
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(images, columns=None, padding=1):
    """Tile a batch (N, H, W, C) in [-1, 1] into one uint8 image (rows, cols, C)."""
    tiles = to_uint8(images)
    n, h, w, c = tiles.shape
    columns = columns or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / columns))
    grid = np.zeros((rows * (h + padding) + padding, columns * (w + padding) + padding, c), np.uint8)
    for i in range(n):
        r, col = divmod(i, columns)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y : y + h, x : x + w] = tiles[i]
    return grid


def save_grid(images, path, columns=None, scale=2):
    """Save a batch in [-1, 1] as a PNG grid (nearest-neighbour upscaled by `scale`)."""
    from PIL import Image

    grid = make_grid(images, columns)
    if grid.shape[-1] == 1:
        grid = grid[..., 0]
    img = Image.fromarray(grid)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path, suffix=".png") as tmp:
        img.save(tmp)
    return path
