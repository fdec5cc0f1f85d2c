"""Test set-up: two logical CPU devices (for MirroredStrategy tests) and shared helpers."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The study harness and the other tools live in tools/ (not a package): their tests import them by name.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Must happen before TensorFlow initialises its devices.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

TWO_CPUS = ["/cpu:0", "/cpu:1"]


@pytest.fixture(scope="session")
def two_cpu_strategy():
    # One instance per process: separate MirroredStrategy objects over the same
    # devices can collide on collective instance keys.
    return tf.distribute.MirroredStrategy(devices=TWO_CPUS)


@pytest.fixture
def digits16():
    """64 digits at 16x16 in [-1, 1], fixed order."""
    from keras_transfer_gan.data import load_images

    images, _ = load_images("digits", image_size=16, limit=64, seed=0)
    return images

