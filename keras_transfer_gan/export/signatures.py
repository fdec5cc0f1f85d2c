"""Serving signatures of each architecture: named inputs and outputs, as `tf.function`s with specs.

| model | signatures |
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

import dataclasses

import keras
import numpy as np
import tensorflow as tf


@dataclasses.dataclass
class Signature:
    """One serving signature: `fn(*inputs) -> {name: tensor}` and its named input specs."""

    name: str
    fn: object
    specs: list
    outputs: tuple


def model_kind(model):
    from keras_transfer_gan.models import (
        ConditionalGAN,
        FeatureBackboneGenerator,
        GAN,
        ImageClassifier,
        LSTMTextGenerator,
        VAE,
    )

    if isinstance(model, ConditionalGAN):
        return "conditional_gan"
    if isinstance(model, FeatureBackboneGenerator):
        return "feature_generator"
    if isinstance(model, GAN):
        return "gan"
    if isinstance(model, VAE):
        return "cvae" if model.conditional else "vae"
    if isinstance(model, LSTMTextGenerator):
        return "text"
    if isinstance(model, ImageClassifier):
        return "classifier"
    raise ValueError(f"export: no serving signatures for {type(model).__name__}")


def to_uint8(images):
    return tf.cast(tf.clip_by_value(tf.round((tf.cast(images, tf.float32) + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


def _spec(shape, dtype, name):
    return tf.TensorSpec(shape, dtype, name=name)


def build_signatures(model, batch_size=None, seq_len=None):
    """``{name: Signature}`` for `model`; `batch_size` fixes the batch dimension (TFLite), None leaves it open.

    `seq_len` fixes the text model's input length (TFLite); the text model then
    uses an unrolled copy of its network.
    """
    kind = model_kind(model)
    b = batch_size
    sigs = {}

    def add(name, fn, specs, outputs):
        sigs[name] = Signature(name, fn, specs, outputs)

    if kind in ("gan", "conditional_gan", "feature_generator"):
        sampler, latent = model.sampler, model.latent_dim
        shape = tuple(model.image_shape)

        def images_of(z, extra):
            out = sampler([z, extra] if extra is not None else z, training=False)
            return tf.cast(out, tf.float32)

        if kind == "gan":
            add("serving_default", lambda z: {"images": images_of(z, None)},
                [_spec([b, latent], tf.float32, "z")], ("images",))
            add("generate_uint8", lambda batch_size: {"images": to_uint8(images_of(
                tf.random.normal([batch_size, latent]), None))},
                [_spec([], tf.int32, "batch_size")], ("images",))
            add("generate_uint8_seeded", lambda batch_size, seed: {"images": to_uint8(images_of(
                tf.random.stateless_normal([batch_size, latent], seed=tf.stack([seed, 0])), None))},
                [_spec([], tf.int32, "batch_size"), _spec([], tf.int32, "seed")], ("images",))
        else:
            extra_name, extra_spec = (("labels", _spec([b], tf.int32, "labels")) if kind == "conditional_gan"
                                      else ("condition", _spec([b, *shape], tf.float32, "condition")))
            add("serving_default", lambda z, extra: {"images": images_of(z, extra)},
                [_spec([b, latent], tf.float32, "z"), extra_spec], ("images",))
            add("generate_uint8", lambda extra: {"images": to_uint8(images_of(
                tf.random.normal([tf.shape(extra)[0], latent]), extra))}, [extra_spec], ("images",))
            add("generate_uint8_seeded", lambda extra, seed: {"images": to_uint8(images_of(
                tf.random.stateless_normal([tf.shape(extra)[0], latent], seed=tf.stack([seed, 0])), extra))},
                [extra_spec, _spec([], tf.int32, "seed")], ("images",))
    elif kind in ("vae", "cvae"):
        encoder, decoder, latent = model.encoder, model.sampler, model.latent_dim
        image_spec = _spec([b, *model.image_shape], tf.float32, "images")
        z_spec = _spec([b, latent], tf.float32, "z")

        def encode(images, labels=None):
            mean, log_var = encoder(images if labels is None else [images, labels], training=False)
            return {"mean": tf.cast(mean, tf.float32), "log_var": tf.cast(log_var, tf.float32)}

        def decode(z, labels=None):
            return {"images": tf.cast(decoder(z if labels is None else [z, labels], training=False), tf.float32)}

        def reconstruct(images, labels=None):
            return decode(encode(images, labels)["mean"], labels)

        label_spec = [_spec([b], tf.int32, "labels")] if kind == "cvae" else []
        add("encode", encode, [image_spec, *label_spec], ("mean", "log_var"))
        add("decode", decode, [z_spec, *label_spec], ("images",))
        add("serving_default", decode, [z_spec, *label_spec], ("images",))
        add("reconstruct", reconstruct, [image_spec, *label_spec], ("images",))
    elif kind == "text":
        network = model.sampler if seq_len is None else unrolled_text_network(model, seq_len)
        add("next_token_logits", lambda ids: {"logits": tf.cast(network(ids, training=False)[:, -1, :], tf.float32)},
            [_spec([b, seq_len], tf.int32, "ids")], ("logits",))
        if seq_len is None:
            add("generate", model.generation_function(),
                [_spec([], tf.string, "prompt"), _spec([], tf.int32, "length"),
                 _spec([], tf.float32, "temperature"), _spec([], tf.int32, "seed")], ("text",))
    else:  # classifier
        add("serving_default", lambda images: {"probabilities": model(images, training=False)},
            [_spec([b, *model.image_shape], tf.float32, "images")], ("probabilities",))
    return sigs


def unrolled_text_network(model, seq_len):
    """A copy of the text network with a fixed length and unrolled LSTMs (TFLite built-in ops only)."""
    from keras_transfer_gan.models.lstm_text_generator import LAYER_NAMES

    source = model.sampler
    ids = keras.Input((seq_len,), batch_size=None, dtype="int32", name="ids")
    x = keras.layers.Embedding(model.vocabulary.size, model.embedding_dim, name="embedding")(ids)
    x = keras.layers.LSTM(model.units, return_sequences=True, unroll=True, name="lstm_1")(x)
    x = keras.layers.LSTM(model.units, return_sequences=True, unroll=True, name="lstm_2")(x)
    logits = keras.layers.Dense(model.vocabulary.size, name="logits", dtype="float32")(x)
    network = keras.Model(ids, logits, name="network_unrolled")
    for name in LAYER_NAMES:
        network.get_layer(name).set_weights(source.get_layer(name).get_weights())
    return network


def example_inputs(model, signature, n=2, seed=0, images=None):
    """Deterministic NumPy inputs for a signature: ``{input_name: array}`` (for warmup, parity, int8 calibration)."""
    rng = np.random.default_rng(seed)
    values = {}
    for spec in signature.specs:
        shape = [n if d is None else d for d in spec.shape]
        name = spec.name
        if name == "batch_size":
            values[name] = np.int32(n)
        elif name == "seed":
            values[name] = np.int32(seed)
        elif name == "labels":
            values[name] = (np.arange(shape[0]) % model.num_classes).astype(np.int32)
        elif name == "ids":
            length = shape[1] if len(shape) > 1 and shape[1] is not None else 8
            values[name] = rng.integers(1, model.vocabulary.size, (shape[0], length)).astype(np.int32)
        elif name == "prompt":
            values[name] = np.array(b"The ")
        elif name == "length":
            values[name] = np.int32(12)
        elif name == "temperature":
            values[name] = np.float32(0.0)
        elif name in ("images", "condition"):
            values[name] = images[: shape[0]].astype(np.float32) if images is not None else \
                rng.uniform(-1, 1, shape).astype(np.float32)
        else:
            values[name] = rng.standard_normal(shape).astype(np.float32)
    return values
