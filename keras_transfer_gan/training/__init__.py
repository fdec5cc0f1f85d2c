"""Training: strategies, optimizers, the custom-loop `Trainer` and callbacks."""

from keras_transfer_gan.training.distribute import get_strategy
from keras_transfer_gan.training.held_out_perplexity import HeldOutPerplexity
from keras_transfer_gan.training.keep_best import KeepBest
from keras_transfer_gan.training.optimizers import build_optimizer, compile_for_training
from keras_transfer_gan.training.precision import auto_precision, cpu_features, precision_scope, resolve_precision
from keras_transfer_gan.training.sample_grid import SampleGrid
from keras_transfer_gan.training.tensorboard_logger import TensorBoardLogger
from keras_transfer_gan.training.trainer import NonFiniteLossError, Trainer

__all__ = [
    "HeldOutPerplexity",
    "KeepBest",
    "SampleGrid",
    "TensorBoardLogger",
    "NonFiniteLossError",
    "Trainer",
    "auto_precision",
    "build_optimizer",
    "compile_for_training",
    "cpu_features",
    "get_strategy",
    "precision_scope",
    "resolve_precision",
]
