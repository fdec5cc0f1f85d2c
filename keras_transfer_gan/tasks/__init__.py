"""Transfer recipes as registered tasks: each file one recipe (its options, what it accepts, how it runs).

Importing this package registers the tasks in the order ``--recipe auto`` tries them; it does not import
TensorFlow (a task's options are read by ``ktg transfer --recipe NAME --help`` before TensorFlow starts).
A new recipe is one file here with a `register_task`-decorated `Task` and its import line below.
"""

from keras_transfer_gan.tasks.context import TaskContext
from keras_transfer_gan.tasks.options import TaskOptions, option
from keras_transfer_gan.tasks.registry import get_task, list_tasks, pick_task, register_task
from keras_transfer_gan.tasks.step_options import StepOptions
from keras_transfer_gan.tasks.task import Task

# The tasks, in the order `auto` tries them.
from keras_transfer_gan.tasks.trgan import TrGAN, TrGANOptions, trgan  # noqa: E402
from keras_transfer_gan.tasks.text import Text, TextOptions, text  # noqa: E402
from keras_transfer_gan.tasks.tgan import TGAN, TGANOptions, tgan  # noqa: E402
from keras_transfer_gan.tasks.ctgan import CTGAN, CTGANOptions, ctgan, pseudo_label  # noqa: E402
from keras_transfer_gan.tasks.classifier import Classifier, ClassifierOptions, finetune_classifier  # noqa: E402
from keras_transfer_gan.tasks.augment import Augment, AugmentOptions, augment_with_generator, augmented_classifier  # noqa: E402,E501
from keras_transfer_gan.tasks.diffusion import Diffusion, DiffusionOptions, finetune_diffusion  # noqa: E402

__all__ = ["Augment", "AugmentOptions", "CTGAN", "CTGANOptions", "Classifier", "ClassifierOptions", "Diffusion",
           "DiffusionOptions", "StepOptions",
           "TGAN", "TGANOptions", "Task", "TaskContext", "TaskOptions", "Text", "TextOptions", "TrGAN",
           "TrGANOptions", "augment_with_generator", "augmented_classifier", "ctgan", "finetune_classifier",
           "finetune_diffusion",
           "get_task", "list_tasks", "option", "pick_task", "pseudo_label", "register_task", "text", "tgan", "trgan"]
