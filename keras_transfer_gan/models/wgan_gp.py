"""WGAN-GP (Gulrajani et al., 2017) on the DCGAN networks."""

import math

import keras
import tensorflow as tf

from keras_transfer_gan.losses import gradient_penalty
from keras_transfer_gan.models.dcgan import DCGAN, build_dcgan_discriminator
from keras_transfer_gan.models.gan import GAN_TINY, SMALL_FILTERS, SYNC_BN
from keras_transfer_gan.registry import register_model
from keras_transfer_gan.utils.checks import check_positive_int
from keras_transfer_gan.utils.replicas import replica_slice


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class WGANGP(DCGAN):
    """Wasserstein GAN with gradient penalty.

    The critic takes `n_critic` steps per generator step on the same real
    batch, each with fresh noise; its loss is ``D(G(z)) - D(x) + gp_weight *
    (||grad D(x_hat)|| - 1)^2`` with ``x_hat`` between real and fake at a
    uniform random point per sample. The critic uses layer norm (batch norm
    would couple the samples whose gradients are penalised) or, with
    `spectral_norm`, spectral normalisation.

    Args:
        latent_dim, image_size, channels, g_filters, d_filters, spectral_norm,
        sync_batchnorm, ema_decay, seed: as for `DCGAN` (`sync_batchnorm`
            applies to the generator only).
        n_critic: int. Critic steps per generator step. Defaults to 5.
        gp_weight: float. Weight of the gradient penalty. Defaults to 10.

    Example:
    >>> model = WGANGP(latent_dim=16, image_size=16, g_filters=8, d_filters=8, n_critic=2)
    """

    optimizer_defaults = {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9}
    default_loss = "wasserstein"
    extra_metrics = ("gp",)
    config_fields = ("n_critic", "gp_weight")

    def __init__(self, n_critic=5, gp_weight=10.0, **kwargs):
        """`n_critic` and `gp_weight`; every other argument is DCGAN's (`DCGAN.__init__`)."""
        check_positive_int(n_critic, "n_critic", "WGANGP")
        if gp_weight < 0 or not math.isfinite(gp_weight):
            raise ValueError(f"WGANGP: gp_weight must be >= 0, got {gp_weight!r}")
        self.n_critic = n_critic
        self.gp_weight = float(gp_weight)
        super().__init__(**kwargs)

    @property
    def d_steps(self):
        return self.n_critic

    def build_discriminator(self):
        return build_dcgan_discriminator(
            self.image_size, self.channels, self.d_filters, self.spectral_norm,
            norm="none" if self.spectral_norm else "layer", name="critic",
        )

    def interpolation_weights(self, batch_size):
        """This replica's interpolation weights, uniform in [0, 1) per sample (Gulrajani et al. 2017, Algorithm 1),
        keyed by the critic's step count."""
        seed = tf.stack([tf.constant(self.seed + 1, tf.int64), tf.cast(self.d_optimizer.iterations, tf.int64)])
        return replica_slice(batch_size, lambda n: tf.random.stateless_uniform([n], seed=seed))

    def d_auxiliary_loss(self, real, fake, labels, real_aux, fake_aux):
        """The gradient penalty per example at `interpolation_weights` between real and fake images."""
        alpha = self.interpolation_weights(tf.shape(real)[0])
        critic = lambda x: self.discriminator(x, training=True)  # noqa: E731
        gp = gradient_penalty(critic, real, fake, alpha)
        return self.gp_weight * gp, {"gp": tf.reduce_mean(gp)}


register_model("wgan_gp", WGANGP, "WGAN-GP: Wasserstein critic with gradient penalty, n_critic steps per G step",
               tiny=dict(GAN_TINY, n_critic=2), distributed=SYNC_BN,
               short_run=dict(dataset="digits", epochs=6, model_args=SMALL_FILTERS))
