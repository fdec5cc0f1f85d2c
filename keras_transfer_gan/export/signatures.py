"""Serving signatures: each architecture declares its own (`Architecture.serving_signatures`); this asks.

| family | signatures |
|---|---|
| GAN | ``serving_default(z) -> images``, ``generate_uint8(batch_size) -> images``, ``generate_uint8_seeded(batch_size, seed) -> images`` |
| conditional GAN | the same with ``labels`` (int32 [None]); ``generate_uint8(labels)``: one image per label |
| feature-backbone generator | ``serving_default(z, condition)``, ``generate_uint8(condition)``, ``generate_uint8_seeded(condition, seed)`` |
| VAE / CVAE | ``encode(images[, labels]) -> mean, log_var``, ``decode(z[, labels]) -> images`` (also ``serving_default``), ``reconstruct(images[, labels]) -> images`` |
| char LSTM | ``next_token_logits(ids) -> logits``, ``generate(prompt, length, temperature, seed) -> text`` |
| classifier | ``serving_default(images) -> probabilities`` |

Float images are in [-1, 1]; ``generate_uint8*`` return uint8 in [0, 255]
and sample inside the graph (``tf.random.normal``; the seeded variant uses
stateless noise keyed by ``seed``).
"""

from keras_transfer_gan.models.architecture import Architecture, Signature, to_uint8

__all__ = ["Signature", "build_signatures", "example_inputs", "to_uint8"]


def build_signatures(model, batch_size=None, seq_len=None):
    """``{name: Signature}`` the model declares; `batch_size` fixes the batch dimension (TFLite), None leaves it
    open; `seq_len` fixes a text model's input length (TFLite: an unrolled copy of its network)."""
    if not isinstance(model, Architecture):
        raise ValueError(f"export: no serving signatures for {type(model).__name__}")
    return model.serving_signatures(batch_size=batch_size, seq_len=seq_len)


def example_inputs(model, signature, n=2, seed=0, images=None):
    """Deterministic NumPy inputs for a signature: ``{input_name: array}`` (warmup, parity, int8 calibration)."""
    return model.probe_inputs(signature, n=n, seed=seed, images=images)
