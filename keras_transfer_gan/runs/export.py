"""`export_run`: a trained model to a TF Serving SavedModel version or a checked TFLite file."""

import json
import os

from keras_transfer_gan.data import load_images
from keras_transfer_gan.export import build_signatures, export_saved_model, export_tflite, write_models_config
from keras_transfer_gan.runs.outputs import load_source
from keras_transfer_gan.utils.atomic import write_text
from keras_transfer_gan.utils.checks import check_positive_int

FORMATS = ("savedmodel", "tflite")


def export_run(model, out, format="savedmodel", name=None, version=None, overwrite=False, quantize="none",
               signature=None, batch_size=1, seq_len=64, dataset="digits", seed=0, data_dir=None, safe_mode=True):
    """What `ktg export` does.

    ``format="savedmodel"``: ``out/NAME/VERSION`` in TF Serving's layout (name from `model` by default)
    and ``out/models.config``. ``format="tflite"``: `out` (a ``.tflite`` path) and its report
    (``out + ".json"``); int8 calibration of a signature reading images takes 256 images of `dataset`.

    Returns:
        ``{"savedmodel": path, "config": path}`` or ``{"tflite": TFLiteReport, "report": path}``.
    """
    if format not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    check_positive_int(batch_size, "batch_size", "export")
    check_positive_int(version, "version", "export", allow_none=True)
    net = load_source(model, safe_mode)
    if format == "savedmodel":
        name = name or os.path.basename(os.path.normpath(model)).split(".")[0]
        path = export_saved_model(net, out, name, version=version, overwrite=overwrite)
        return {"savedmodel": path, "config": write_models_config(out)}
    if not out.endswith(".tflite"):
        raise ValueError(f"--out must end with .tflite for --format tflite, got {out!r}")
    images = None
    chosen = build_signatures(net).get(signature or net.default_signature)
    if quantize == "int8" and chosen is not None and any(s.name == "images" for s in chosen.specs):
        images, _ = load_images(dataset, image_size=net.image_size, channels=net.channels, limit=256, seed=seed,
                                data_dir=data_dir)
    report = export_tflite(net, out, quantize, representative_data=images, eval_data=images, signature=signature,
                           batch_size=batch_size, seq_len=seq_len)
    return {"tflite": report, "report": write_text(out + ".json", json.dumps(report.as_dict(), indent=2))}
