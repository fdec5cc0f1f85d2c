"""`RecipeResult`: what a transfer recipe built, copied, froze and measured."""

import dataclasses


@dataclasses.dataclass
class RecipeResult:
    """The outcome of a recipe (a task of `keras_transfer_gan.tasks`).

    Attributes:
        model: the trained target model.
        report: the `TransferReport` of the weight copy (None when nothing was copied by path).
        freeze: the `FreezeSummary` of the model as trained (None when nothing was frozen).
        history: ``{metric: [value per epoch]}``; a two-phase recipe prefixes
            its phases (``head/loss``, ``finetune/loss``).
        extra: recipe-specific results (pseudo-label counts, accuracies, ...).
    """

    model: object
    report: object = None
    freeze: object = None
    history: dict = dataclasses.field(default_factory=dict)
    extra: dict = dataclasses.field(default_factory=dict)

    def describe(self):
        """The transfer report and the freeze summary as printable text."""
        if self.report is not None:
            parts = [f"Transfer report\n{self.report}"]
        else:
            parts = ["Transfer report\nno weights copied by path (the target model starts fresh)"]
        if self.extra:
            parts.append("\n".join(f"{key}: {value}" for key, value in self.extra.items()))
        if self.freeze is not None:
            parts.append(f"Freeze summary\n{self.freeze}")
        return "\n\n".join(parts)
