"""Held-out perplexity of a character model: exp(mean next-character cross-entropy)."""

import numpy as np
import tensorflow as tf


def perplexity(model, text, seq_len=64, batch_size=64):
    """exp(mean cross-entropy of each next character) of `model` over non-overlapping `seq_len` windows of `text`.

    The model reads `text` through its own vocabulary (characters it does not know are its unknown token)
    with its sampling network (the EMA copy when on). Lower is better; 1 is perfect, the vocabulary size is
    what a uniform guess scores.
    """
    ids = model.vocabulary.encode(text)
    n = (len(ids) - 1) // seq_len
    if n < 1:
        raise ValueError(f"perplexity: {len(ids)} characters make no window of {seq_len}")
    x = ids[: n * seq_len].reshape(n, seq_len)
    y = ids[1 : n * seq_len + 1].reshape(n, seq_len)
    total = 0.0
    for i in range(0, n, batch_size):
        logits = tf.cast(model(tf.constant(x[i:i + batch_size]), training=False), tf.float32)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y[i:i + batch_size], logits=logits)
        total += float(tf.reduce_sum(losses))
    return float(np.exp(total / (n * seq_len)))
