"""`FreezeSummary`: trainable and frozen parameters per sub-model after a freeze."""

import dataclasses

import keras
import numpy as np

from keras_transfer_gan.transfer.adaptation.weights import layer_paths, submodels


@dataclasses.dataclass(frozen=True)
class FreezeSummary:
    """Per sub-model: trainable parameters, frozen parameters (weights of frozen
    layers that would otherwise train) and statistics (batch-norm moving
    averages and other non-trainable state); plus the layer paths just changed."""

    parts: dict
    changed: tuple

    @classmethod
    def of(cls, model, changed):
        parts = {}
        for part in submodels(model, include_ema=False):
            trainable = sum(int(np.prod(v.shape)) for v in part.trainable_weights)
            stats = frozen = 0
            for _, layer in layer_paths(model, part.name):
                # Variables a layer creates as non-trainable (moving averages) are statistics; a trainable
                # layer's non-trainable kernel (a modulated convolution's) is frozen.
                for v in layer.non_trainable_weights:
                    if _is_statistic(layer, v) or (layer.trainable
                                                   and v.path.rsplit("/", 1)[-1] not in ("kernel", "bias")):
                        stats += int(np.prod(v.shape))
                    else:
                        frozen += int(np.prod(v.shape))
            parts[part.name] = {"trainable": trainable, "frozen": frozen, "statistics": stats}
        return cls(parts, tuple(changed))

    def __str__(self):
        lines = [f"{'sub-model':<16} {'trainable':>11} {'frozen':>11} {'statistics':>11}"]
        for name, counts in self.parts.items():
            lines.append(f"{name:<16} {counts['trainable']:>11,} {counts['frozen']:>11,} {counts['statistics']:>11,}")
        lines.append(f"{len(self.changed)} layers changed")
        return "\n".join(lines)

    __repr__ = __str__


def _is_statistic(layer, variable):
    name = variable.path.rsplit("/", 1)[-1]
    return name.startswith("moving_") or name in ("u", "kernel_u", "vector_u") or (
        isinstance(layer, keras.layers.SpectralNormalization) and name != "kernel"
    )
