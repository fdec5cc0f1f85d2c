"""`StudySettings`: what every arm of a study shares."""

import dataclasses

from keras_transfer_gan.utils.checks import check_positive_int


@dataclasses.dataclass
class StudySettings:
    """What every arm of a study shares (the run cache is keyed on these, the source and the data)."""

    steps: int = 400
    eval_every: int = 100
    batch_size: int = 32
    freeze_d: int = 2
    n_fake: int = 500
    held_out: int = 500
    extractor: str = "auto"
    second_extractor: str = "auto"  # the domain's second evaluator (metrics.SECOND_EXTRACTORS); "none": off
    reference: object = "test"
    weights: dict = None

    def check(self):
        for name in ("steps", "eval_every", "batch_size", "n_fake", "held_out"):
            check_positive_int(getattr(self, name), name, "study")
        check_positive_int(self.freeze_d, "freeze_d", "study", minimum=0)
        if self.steps % self.eval_every:
            raise ValueError(f"study: steps ({self.steps}) must be a multiple of eval_every ({self.eval_every})")
        if self.reference != "test":
            check_positive_int(self.reference, "reference (test or a number of held-out train images)", "study")
