"""Adversarial losses, per example.

Each loss is a pair ``(d_loss(real_logits, fake_logits), g_loss(fake_logits))``
returning one value per example (shape ``[batch]``). Callers average them with
`tf.nn.compute_average_loss`, which divides by the *global* batch, so that the
summed gradients of all replicas equal the gradient of one big batch.
"""

import tensorflow as tf


def _flat(logits):
    return tf.reshape(tf.cast(logits, tf.float32), [tf.shape(logits)[0], -1])[:, 0]


def non_saturating_d(real_logits, fake_logits):
    """-log D(x) - log(1 - D(G(z))), from logits."""
    real, fake = _flat(real_logits), _flat(fake_logits)
    return tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones_like(real), logits=real
    ) + tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(fake), logits=fake)


def non_saturating_g(fake_logits):
    """-log D(G(z)), from logits (Goodfellow et al.'s non-saturating form)."""
    fake = _flat(fake_logits)
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(fake), logits=fake)


def hinge_d(real_logits, fake_logits):
    """max(0, 1 - D(x)) + max(0, 1 + D(G(z)))."""
    return tf.nn.relu(1.0 - _flat(real_logits)) + tf.nn.relu(1.0 + _flat(fake_logits))


def hinge_g(fake_logits):
    """-D(G(z))."""
    return -_flat(fake_logits)


def wasserstein_d(real_logits, fake_logits):
    """D(G(z)) - D(x): the critic's side of the Wasserstein objective."""
    return _flat(fake_logits) - _flat(real_logits)


def wasserstein_g(fake_logits):
    """-D(G(z))."""
    return -_flat(fake_logits)


ADVERSARIAL_LOSSES = {
    "non_saturating": (non_saturating_d, non_saturating_g),
    "hinge": (hinge_d, hinge_g),
    "wasserstein": (wasserstein_d, wasserstein_g),
}


def get_adversarial_loss(name):
    """Return ``(d_loss, g_loss)`` for a loss name; a ValueError names the choices."""
    if name not in ADVERSARIAL_LOSSES:
        raise ValueError(
            f"unknown adversarial loss {name!r} (choose from {', '.join(ADVERSARIAL_LOSSES)})"
        )
    return ADVERSARIAL_LOSSES[name]
