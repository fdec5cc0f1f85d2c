"""`Task`: one transfer recipe (the orbit / Model Garden task idea), registered by name.

A task says what it can start from (`accepts`), holds its options in one dataclass (`options_class`, see
`TaskOptions`), and builds its inputs, model, callbacks and run (`run`). `runs.transfer_run` only loads the
source, picks the task, runs it and writes what it returns. A new recipe is one file in this package with a
`Task` subclass decorated by `register_task`, plus its import line in ``tasks/__init__.py``.

Example:
>>> @register_task
... class Distil(Task):
...     name = "distil"
...     description = "a smaller generator trained on the source's samples"
...     options_class = DistilOptions
...     def accepts(self, source):
...         return None if getattr(source, "generates", None) == "images" else "needs an image generator"
...     def run(self, source, context, options):
...         ...  # build the data, the model and the callbacks, train, return a RecipeResult
"""

import json

from keras_transfer_gan.tasks.options import TaskOptions


class Task:
    """A registered transfer recipe. Subclasses set `name`, `description`, `options_class` and override
    `accepts` and `run`; `samples` and `result_lines` say what the run writes and prints.

    Attributes:
        name: the name ``ktg transfer --recipe`` takes.
        description: one line for ``--help``.
        options_class: its `TaskOptions` dataclass.
        samples: what the run writes after training: ``"images"`` (``samples.png``), ``"text"``
            (``samples.txt``) or None.
    """

    name = None
    #: How tables and figures name it (default: the name).
    label = None
    description = ""
    options_class = TaskOptions
    samples = "images"
    #: The target data is read as the source reads (or writes) it: its channels unless asked otherwise.
    source_channels = False
    #: Print ``extra`` (the accuracies) after the run, under this label.
    extra_label = None

    def __init__(self):
        self.label = self.label or self.name

    def accepts(self, source):
        """None when the task can start from `source` (a loaded model), else the one-line reason."""
        return None

    def check(self, source):
        """Raise a one-line ValueError when the task cannot start from `source`."""
        reason = self.accepts(source)
        if reason is not None:
            raise ValueError(f"--recipe {self.name}: {reason}")

    def options(self, **settings):
        """The task's options from keyword values (`TaskOptions.from_settings`)."""
        return self.options_class.from_settings(self.name, settings)

    def image_settings(self, source, context):
        """``(image_size, channels)`` to load the target data at; None channels: the data's own (the source's
        with `source_channels`)."""
        channels = context.channels or (source.channels if self.source_channels else None)
        return context.image_size_for(source), channels

    def run(self, source, context, options):
        """Build the inputs, the model and the callbacks, train, and return a `RecipeResult`."""
        raise NotImplementedError(f"task {self.name!r} does not define run()")

    def sample_settings(self, options):
        """``(n, conditions, options)`` of the samples written after the run."""
        return 64, None, {}

    def result_lines(self, result):
        """Lines ``ktg transfer`` prints after the run besides the paths (accuracies, perplexities)."""
        return [f"{self.extra_label}: {json.dumps(result.extra)}"] if self.extra_label else []


def source_family(source):
    """The family an architecture declares, None for any other model."""
    return getattr(source, "family", None)
