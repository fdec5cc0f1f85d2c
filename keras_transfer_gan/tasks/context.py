"""`TaskContext`: what every task is given besides its options: the target data spec and the run's settings."""

import dataclasses
import os


@dataclasses.dataclass
class TaskContext:
    """The run a task is part of (`runs.transfer_run` builds it; a script may build its own).

    Attributes:
        dataset: the target data spec (``load_dataset``'s, or a corpus for text).
        out: the output directory (sample grids, TensorBoard, checkpoints); None: none written.
        image_size: None: the source's.
        channels: None: the data's own (a task may choose the source's).
        batch_size, limit, seed, data_dir: as for `load_dataset`.
        epochs: passes over the data when a task has no step budget.
        lr: learning rate (None: the model's default).
        model_args: constructor arguments of a model the task builds fresh.
        verbose: 0 quiet, 1 progress bar.
        report_to: callable receiving the transfer report before training (None: silent).
        strategy: a `tf.distribute.Strategy` (None: the default one).
    """

    dataset: object
    out: str = None
    image_size: int = None
    channels: int = None
    batch_size: int = 64
    limit: int = None
    seed: int = 0
    data_dir: str = None
    epochs: int = 5
    lr: float = None
    model_args: dict = dataclasses.field(default_factory=dict)
    verbose: int = 0
    report_to: object = None
    strategy: object = None

    def image_size_for(self, source):
        """The target image size: the one asked for, else the source's (32 for a source without one)."""
        return self.image_size or getattr(source, "image_size", None) or 32

    def data_settings(self, source, **changes):
        """`load_dataset` keyword arguments for the target data (`changes` win)."""
        return dict(dict(image_size=self.image_size_for(source), channels=self.channels,
                         batch_size=self.batch_size, limit=self.limit, seed=self.seed, data_dir=self.data_dir,
                         drop_remainder=True), **changes)

    def callbacks(self, conditions=None):
        """A sample grid per block or epoch and TensorBoard logs under `out` (none without `out`)."""
        from keras_transfer_gan.training import SampleGrid, TensorBoardLogger

        if self.out is None:
            return []
        return [SampleGrid(self.out, n=64, seed=self.seed, conditions=conditions),
                TensorBoardLogger(os.path.join(self.out, "tensorboard"), conditions=conditions)]

    def trainer_settings(self, options):
        """`Trainer` settings: the strategy, and with `StepOptions` the block length and checkpoints."""
        settings = dict(strategy=self.strategy)
        if hasattr(options, "schedule"):
            settings.update(steps_per_epoch=options.schedule(self.epochs)[1], checkpoint_every=options.checkpoint_every,
                            resume=options.resume,
                            checkpoint_dir=None if self.out is None else os.path.join(self.out, "checkpoints"))
        return settings

    def epochs_for(self, options):
        """Epochs (blocks of a step budget) to train."""
        return options.schedule(self.epochs)[0] if hasattr(options, "schedule") else self.epochs

    def batch_size_for(self, options):
        """The batch size: a few-shot set smaller than a batch (with a step budget) is every image in each batch."""
        return options.few_shot_batch(self.batch_size, self.limit) if hasattr(options, "schedule") else self.batch_size
