"""`L2SP` (Li et al., 2018): pull transferred weights towards their source values."""

import numpy as np
import tensorflow as tf

from keras_transfer_gan.transfer.adaptation.weights import named_weights


class L2SP:
    """``alpha/2 * ||w - w_source||^2`` on transferred weights, ``beta/2 * ||w||^2`` on new ones.

    A weight counts as transferred when the reference holds its path with the
    same shape (as `transfer_weights` copied it). Attach it with
    ``model.compile(..., weight_penalty=L2SP(...))``; the GAN adds it to the
    loss of each sub-model it updates.

    Args:
        reference: the source model, or ``{path: array}`` of source weights,
            with paths as `named_weights` gives them.
        alpha: float. Strength towards the source values. Defaults to 0.01.
        beta: float. Plain weight decay on new weights. Defaults to 0.01.
    """

    def __init__(self, reference, alpha=0.01, beta=0.01):
        if alpha < 0 or beta < 0:
            raise ValueError(f"L2SP: alpha and beta must be >= 0, got {alpha}, {beta}")
        if not isinstance(reference, dict):
            reference = {k: v.numpy() for k, v in named_weights(reference).items()}
        self.reference = {k: np.asarray(v, np.float32) for k, v in reference.items()}
        self.alpha = float(alpha)
        self.beta = float(beta)

    def split(self, submodel):
        """``([(variable, source_value)], [new variables])`` among `submodel`'s trainable weights."""
        transferred, new = [], []
        for variable in submodel.trainable_variables:
            source = self.reference.get(f"{submodel.name}/{variable.path}")
            if source is not None and source.shape == tuple(variable.shape):
                transferred.append((variable, source))
            else:
                new.append(variable)
        return transferred, new

    def __call__(self, submodel):
        """The penalty (a scalar) for `submodel`'s trainable weights."""
        transferred, new = self.split(submodel)
        total = tf.constant(0.0)
        for variable, source in transferred:
            total += 0.5 * self.alpha * tf.reduce_sum(tf.square(variable - tf.constant(source)))
        for variable in new:
            total += 0.5 * self.beta * tf.reduce_sum(tf.square(variable))
        return total
