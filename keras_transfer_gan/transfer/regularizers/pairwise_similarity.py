"""`PairwiseSimilarity`: DDPM-PA's pairwise similarity loss (Zhu et al., 2022), the diffusion counterpart of CDC."""

import keras
import tensorflow as tf


def similarity_distributions(images):
    """Per image of a batch, the softmax over the *other* images of its cosine similarity to them (the
    flattened images): ``[b, b]`` with zeros on the diagonal."""
    flat = tf.math.l2_normalize(tf.reshape(tf.cast(images, tf.float32), [tf.shape(images)[0], -1]), axis=-1)
    similarity = tf.matmul(flat, flat, transpose_b=True)
    eye = tf.eye(tf.shape(flat)[0], dtype=tf.bool)
    return tf.nn.softmax(tf.where(eye, tf.fill(tf.shape(similarity), -1e9), similarity), axis=-1)


def pairwise_kl(source_images, adapted_images):
    """Per image, ``KL(p_source || p_adapted)`` of the `similarity_distributions` of the two batches."""
    p, q = similarity_distributions(source_images), similarity_distributions(adapted_images)
    eye = tf.eye(tf.shape(p)[0], dtype=tf.bool)
    terms = tf.where(eye, 0.0, p * (tf.math.log(p + 1e-12) - tf.math.log(q + 1e-12)))
    return tf.reduce_sum(terms, axis=-1)


class PairwiseSimilarity:
    """Keep the relative similarities of the adapted model's denoised images to each other those of the
    source's: for the training batch's noisy images, the clean-image estimates of the adapted denoiser and of the
    frozen source (the same noisy inputs), per image the softmax of its cosine similarities to the batch's other
    images, and ``weight * KL(source || adapted)`` per image added to the diffusion loss.

    Departures from DDPM-PA: similarities on the clean-image estimates themselves (the paper's pairwise
    loss; its second, high-frequency term is not implemented); pairs within a replica's batch (with
    `tf.distribute`); the batch needs at least 3 images (with 2, each softmax is over one image and the loss is
    0). Attach it with ``model.compile(..., pairwise=PairwiseSimilarity(source, weight))``.

    Args:
        source: the source diffusion model (its sampling network is copied, frozen, at `bind`).
        weight: float. Defaults to 1.
    """

    def __init__(self, source, weight=1.0):
        if weight < 0:
            raise ValueError(f"PairwiseSimilarity: weight must be >= 0, got {weight!r}")
        self.source, self.weight, self.network = source, float(weight), None

    def bind(self, model):
        """Copy the source's sampling network (frozen) for `model`; called by the model's `compile`."""
        network = self.source.sampler
        for attribute in ("image_shape", "num_classes"):
            if getattr(self.source, attribute) != getattr(model, attribute):
                raise ValueError(f"PairwiseSimilarity: the source's {attribute} ({getattr(self.source, attribute)}) "
                                 f"differs from the model's ({getattr(model, attribute)})")
        self.network = keras.models.clone_model(network)
        self.network.set_weights(network.get_weights())
        self.network.trainable = False
        return self

    def per_example(self, model, noisy, noise_rates, signal_rates, labels, adapted_clean):
        """``weight * KL`` per image, the source's estimates held constant."""
        prediction = self.network(model.denoiser_inputs(noisy, noise_rates, labels), training=False)
        source_clean, _ = model.split_prediction(tf.cast(prediction, tf.float32), noisy, noise_rates, signal_rates)
        return self.weight * pairwise_kl(tf.stop_gradient(source_clean), adapted_clean)
