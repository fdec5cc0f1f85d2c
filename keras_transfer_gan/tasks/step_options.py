"""`StepOptions`: the options of a task that trains in steps and checkpoints (so can resume)."""

import dataclasses

from keras_transfer_gan.tasks.options import TaskOptions, option


@dataclasses.dataclass
class StepOptions(TaskOptions):
    """A step budget in blocks (a sample grid and a checkpoint at each block's end), or epochs; resume."""

    steps: int = option(None, "Train this many steps (the few-shot data repeats), in blocks of --sample_every; "
                        "instead of --epochs.", minimum=1)
    sample_every: int = option(None, "With --steps: steps between sample grids and checkpoints (default: 100, "
                               "or --steps if fewer).", minimum=1)
    checkpoint_every: int = option(None, "Also checkpoint every N steps.", minimum=1)
    resume: bool = option(False, "Continue from the latest checkpoint in --out (to the same total).")

    def __post_init__(self):
        super().__post_init__()
        if self.steps is not None and self.steps % self.block:
            raise ValueError(f"--steps ({self.steps}) must be a multiple of --sample_every ({self.block})")

    @property
    def block(self):
        """Steps between sample grids and checkpoints (None: a block is an epoch)."""
        if self.steps is None:
            return None
        return self.sample_every or min(self.steps, 100)

    def schedule(self, epochs):
        """``(epochs, steps_per_epoch)`` for a `Trainer`: ``steps / block`` blocks, or `epochs` passes."""
        return (epochs, None) if self.steps is None else (self.steps // self.block, self.block)

    def few_shot_batch(self, batch_size, limit):
        """A few-shot set smaller than a batch trains on every image in each batch."""
        return min(batch_size, limit) if self.steps is not None and limit else batch_size
