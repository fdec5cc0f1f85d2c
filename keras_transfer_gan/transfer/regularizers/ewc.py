"""`EWC` (Li et al., 2020): pull the adapted generator towards the source, weight by weight, by importance."""

import numpy as np
import tensorflow as tf

from keras_transfer_gan.losses import get_adversarial_loss
from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.transfer.adaptation.weights import named_weights
from keras_transfer_gan.utils.checks import check_positive_int


def _is_gan(model):
    return isinstance(model, Architecture) and model.family == "gan"


def estimate_fisher(source, n_samples=64, seed=0):
    """The diagonal Fisher information of a source GAN's generator weights.

    The mean, over `n_samples` noise vectors taken one at a time, of the squared
    gradient of the source's generator loss (its adversarial loss on its own
    discriminator's score of the sample) with respect to each generator weight.
    Both networks run in inference mode, so samples do not interact through
    batch statistics.

    Returns:
        ``{path: float32 array}`` for the generator's trainable weights, paths as
        `named_weights` gives them (``generator/g_project/kernel``).
    """
    if not _is_gan(source):
        raise ValueError(f"EWC: the source must be a GAN, got {type(source).__name__}")
    check_positive_int(n_samples, "n_samples", "EWC")
    _, g_loss_fn = get_adversarial_loss(source.loss_name)
    weights = source.generator.trainable_variables
    z_all = tf.random.stateless_normal([n_samples, source.latent_dim], seed=[int(seed), 4242])
    num_classes = getattr(source, "num_classes", 0)

    @tf.function
    def squared_gradients(z, label, key):
        with tf.GradientTape() as tape:
            inputs = source.generator_inputs(z, label if num_classes else None, None)
            fake = source.generator(source.with_extra_inputs(inputs, key), training=False)  # e.g. noise maps
            logits, _ = source.discriminator_outputs(fake, label if num_classes else None, False)
            loss = tf.reduce_mean(g_loss_fn(logits))
        return [tf.square(g) for g in tape.gradient(loss, weights)]

    totals = [np.zeros(w.shape, np.float64) for w in weights]
    for i in range(n_samples):
        label = tf.constant([i % num_classes if num_classes else 0], tf.int32)
        key = tf.constant([int(seed), 4243 + i], tf.int64)
        for total, g in zip(totals, squared_gradients(z_all[i:i + 1], label, key)):
            total += g.numpy()
    return {f"{source.generator.name}/{w.path}": (t / n_samples).astype(np.float32) for w, t in zip(weights, totals)}


class EWC:
    """Elastic weight consolidation on the generator: ``weight/2 * sum_i F_i (w_i - w_source_i)^2``.

    `F` is the diagonal Fisher information of the source generator
    (`estimate_fisher`), divided by its mean over all generator weights so that
    `weight` reads like L2-SP's alpha: the weights the source's outputs depend on
    most are held hardest, the rest adapt freely. Applies to the generator only
    (the discriminator fine-tunes as usual); weights the source lacks (rebuilt
    heads) are not penalised.

    Attach with ``compile_for_training(model, regularizers=[EWC(source)])``.

    Args:
        source: the source GAN (zoo name resolved by the caller).
        weight: float. Defaults to 1.0.
        fisher: ``{path: array}`` or None to estimate it (`n_samples`, `seed`).
        n_samples: int. Samples for the estimate. Defaults to 64.
        seed: int. Noise of the estimate. Defaults to 0.
    """

    def __init__(self, source, weight=1.0, fisher=None, n_samples=64, seed=0):
        if weight < 0:
            raise ValueError(f"EWC: weight must be >= 0, got {weight!r}")
        fisher = estimate_fisher(source, n_samples, seed) if fisher is None else fisher
        scale = np.mean(np.concatenate([np.ravel(f) for f in fisher.values()])) or 1.0
        self.fisher = {k: np.asarray(v, np.float32) / np.float32(scale) for k, v in fisher.items()}
        sources = named_weights(source) if _is_gan(source) else {}
        self.reference = {k: sources[k].numpy() for k in self.fisher if k in sources}
        self.weight = float(weight)
        self.generator_name = source.generator.name if _is_gan(source) else "generator"

    def terms(self, submodel):
        """``[(variable, fisher, source_value)]`` for `submodel`'s trainable weights the source has."""
        out = []
        for variable in submodel.trainable_variables:
            key = f"{submodel.name}/{variable.path}"
            fisher, reference = self.fisher.get(key), self.reference.get(key)
            if fisher is not None and reference is not None and fisher.shape == tuple(variable.shape):
                out.append((variable, fisher, reference))
        return out

    def __call__(self, submodel):
        """The penalty (a scalar) for `submodel`; 0 for anything but the generator."""
        total = tf.constant(0.0)
        if submodel.name != self.generator_name:
            return total
        for variable, fisher, reference in self.terms(submodel):
            total += 0.5 * self.weight * tf.reduce_sum(
                tf.constant(fisher) * tf.square(tf.cast(variable, tf.float32) - tf.constant(reference)))
        return total
