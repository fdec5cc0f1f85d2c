"""TFLite export (float, float16, dynamic-range, full int8) checked numerically against Keras with LiteRT."""

import os
import tempfile
import warnings

import numpy as np
import tensorflow as tf

from keras_transfer_gan.export.saved_model import write_saved_model
from keras_transfer_gan.export.signatures import build_signatures, example_inputs
from keras_transfer_gan.export.tflite_report import TFLiteReport
from keras_transfer_gan.transfer.adaptation.lora import merge_lora
from keras_transfer_gan.utils.atomic import atomic_path
from keras_transfer_gan.utils.checks import check_choice, check_positive_int

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")


def interpreter(model_content=None, model_path=None):
    """A LiteRT interpreter (`ai_edge_litert`), allocated."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise ValueError(f"running TFLite needs ai-edge-litert (pip install ai-edge-litert): {exc}") from None
    interp = Interpreter(model_content=model_content, model_path=model_path)
    interp.allocate_tensors()
    return interp


def _batches(model, signature, batch_size, data, count, seed):
    """`count` input dicts of `batch_size`, from `data` (an array for the signature's float input, or dicts) or generated."""
    float_inputs = [s.name for s in signature.specs if s.dtype == tf.float32 and s.shape.rank]
    for i in range(count):
        if isinstance(data, dict):
            yield {k: np.asarray(v)[i * batch_size:(i + 1) * batch_size] for k, v in data.items()}
            continue
        inputs = example_inputs(model, signature, n=batch_size, seed=seed + i)
        if data is not None:
            start = (i * batch_size) % max(len(data) - batch_size + 1, 1)
            inputs[float_inputs[0]] = np.asarray(data[start:start + batch_size], np.float32)
        yield inputs


def export_tflite(model, path, quantization="none", representative_data=None, signature=None, batch_size=1,
                  seq_len=32, eval_data=None, n_eval=8, n_calibration=64):
    """Convert one serving signature to TFLite (SavedModel -> `TFLiteConverter.from_saved_model`), check it.

    The batch dimension is fixed (`batch_size`): an open one turns transposed
    convolutions' output shapes into runtime ops that XNNPACK cannot take and
    was measured 3.7-6x slower. The text model exports ``next_token_logits``
    over a fixed `seq_len` with unrolled LSTMs, so only built-in ops are needed.

    Args:
        model: a zoo model.
        path: the ``.tflite`` file to write (atomically).
        quantization: ``"none"`` (float32), ``"float16"`` (weights), ``"dynamic"``
            (int8 weights, float activations) or ``"int8"`` (int8 weights and
            activations calibrated on `representative_data`; float inputs and outputs).
        representative_data: calibration inputs for int8: an array for the
            signature's float input (images for a classifier or an encoder; z
            by default drawn from N(0, 1)), or a dict of arrays by input name.
        signature: which signature (default: the model's `default_signature`: a
            generator's ``serving_default``, the VAE's ``decode``, the text
            model's ``next_token_logits``).
        batch_size: int. Defaults to 1.
        eval_data: like `representative_data`, the inputs the error is measured on
            (default: generated with fixed seeds).
        n_eval: evaluation batches. Defaults to 8.

    A model with LoRA factors is converted merged (`transfer.merge_lora`), as `export_saved_model` does.

    Returns:
        A `TFLiteReport`.
    """
    model = merge_lora(model)
    check_choice(quantization, "quantization", "export_tflite", QUANTIZATIONS)
    check_positive_int(batch_size, "batch_size", "export_tflite")
    signatures = build_signatures(model, batch_size=batch_size, seq_len=seq_len)
    signature = signature or model.default_signature
    if signature not in signatures or signature.startswith("generate"):
        usable = [s for s in signatures if not s.startswith("generate")]
        raise ValueError(f"export_tflite: signature must be one of {', '.join(usable)}, got {signature!r}")
    sig = signatures[signature]
    needs_images = any(s.name == "images" for s in sig.specs)
    if quantization == "int8" and needs_images and representative_data is None:
        raise ValueError("export_tflite: int8 calibration of an image input needs representative_data (images)")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"export_tflite: no such directory {directory!r}")
    with tempfile.TemporaryDirectory(prefix=".tflite-", dir=directory) as tmp:  # the scratch SavedModel
        write_saved_model(model, os.path.join(tmp, "sm"), {signature: sig})
        converter = tf.lite.TFLiteConverter.from_saved_model(os.path.join(tmp, "sm"), signature_keys=[signature])
        if quantization != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantization == "int8":
            converter.representative_dataset = lambda: _batches(
                model, sig, batch_size, representative_data, max(1, n_calibration // batch_size), seed=100)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        try:
            with warnings.catch_warnings():  # int8 calibration runs TF's own deprecated tf.lite.Interpreter
                warnings.filterwarnings("ignore", message=r"(?s).*tf\.lite\.Interpreter is deprecated")
                content = converter.convert()
        except Exception as exc:
            raise ValueError(f"export_tflite: conversion failed ({quantization}): "
                             f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else exc}") from None
    with atomic_path(path) as staged:
        with open(staged, "wb") as f:
            f.write(content)
    runner = interpreter(model_content=content).get_signature_runner(signature)
    errors, scale = [], 0.0
    for inputs in _batches(model, sig, batch_size, eval_data, n_eval, seed=1000):
        expected = sig.fn(*[tf.constant(inputs[s.name]) for s in sig.specs])
        got = runner(**inputs)
        for key in sig.outputs:
            ref = np.asarray(expected[key], np.float64)
            errors.append(np.abs(ref - np.asarray(got[key], np.float64)).ravel())
            scale = max(scale, float(np.abs(ref).max()))
    errors = np.concatenate(errors)
    return TFLiteReport(path, quantization, signature, batch_size, len(content), float(errors.max()),
                        float(errors.mean()), scale, n_eval)
