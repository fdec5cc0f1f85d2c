"""`TFLiteReport`: size and measured error of a TFLite export against the Keras model."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class TFLiteReport:
    """What `export_tflite` wrote and how far its outputs are from Keras'.

    Attributes:
        path: the ``.tflite`` file.
        quantization: ``none``, ``float16``, ``dynamic`` or ``int8``.
        signature: the exported signature (its inputs and outputs keep their names).
        batch_size: the fixed batch dimension.
        size_bytes: file size.
        max_abs_error, mean_abs_error: over every output element of the
            evaluation inputs, against the Keras model's outputs.
        output_scale: the largest absolute Keras output (to read the errors against).
        n_eval: evaluation batches.
    """

    path: str
    quantization: str
    signature: str
    batch_size: int
    size_bytes: int
    max_abs_error: float
    mean_abs_error: float
    output_scale: float
    n_eval: int

    def as_dict(self):
        return dataclasses.asdict(self)

    def __str__(self):
        return (f"{self.path}: {self.quantization}, signature {self.signature}, batch {self.batch_size}, "
                f"{self.size_bytes / 1e6:.2f} MB, max |err| {self.max_abs_error:.3g}, "
                f"mean |err| {self.mean_abs_error:.3g} (outputs up to {self.output_scale:.3g})")
