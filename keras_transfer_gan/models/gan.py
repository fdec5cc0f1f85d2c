"""`GAN`: the base of every adversarial model in the zoo."""

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.losses import get_adversarial_loss


def replica_slice(batch_size, make_global):
    """Draw a global-batch tensor with `make_global(global_batch)` and keep this replica's rows.

    Every replica draws the same global tensor (stateless RNG, same seed) and
    keeps rows ``[id * b, (id + 1) * b)``, so the noise an example sees does
    not depend on how many replicas share the batch.
    """
    ctx = tf.distribute.get_replica_context()
    if ctx is None:  # cross-replica context: no slicing
        return make_global(batch_size)
    replicas = ctx.num_replicas_in_sync
    if replicas == 1:
        return make_global(batch_size)
    rid = tf.cast(ctx.replica_id_in_sync_group, tf.int32)
    full = make_global(batch_size * replicas)
    return full[rid * batch_size : (rid + 1) * batch_size]


class GAN(keras.Model):
    """Base class for generator/discriminator models trained adversarially.

    Subclasses build two functional sub-models in `build_generator` and
    `build_discriminator`; this class wires them, trains them with
    `train_step` (so `fit` works, and the same step runs per replica under
    any `tf.distribute` strategy through `Trainer`), and samples with `generate`.

    Noise is drawn with stateless RNG keyed by ``(seed, step, stream)`` where
    ``step`` is the generator optimizer's iteration count, so a run restored
    from a checkpoint continues with exactly the noise it would have drawn.

    Args:
        latent_dim: int. Size of the generator's input noise.
        image_size: int. Output height and width: 16, 32 or 64.
        channels: int. 1 (gray) or 3 (RGB).
        seed: int. Seeds the training noise. Defaults to 0.
        **kwargs: passed to `keras.Model` (e.g. `name`).
    """

    #: Optimizer defaults the trainers use for this family (models never build optimizers).
    optimizer_defaults = {"learning_rate": 2e-4, "beta_1": 0.5}
    SUPPORTED_SIZES = (16, 32, 64)

    def __init__(self, latent_dim=100, image_size=32, channels=1, seed=0, **kwargs):
        super().__init__(**kwargs)
        if image_size not in self.SUPPORTED_SIZES:
            raise ValueError(
                f"{type(self).__name__}: image_size must be one of {self.SUPPORTED_SIZES}, got {image_size!r}"
            )
        if channels not in (1, 3):
            raise ValueError(f"{type(self).__name__}: channels must be 1 or 3, got {channels!r}")
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim <= 0:
            raise ValueError(f"{type(self).__name__}: latent_dim must be a positive integer, got {latent_dim!r}")
        self.latent_dim = latent_dim
        self.image_size = image_size
        self.channels = channels
        self.seed = int(seed)
        self.generator = self.build_generator()
        self.discriminator = self.build_discriminator()
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.loss_name = "non_saturating"
        self.built = True

    # ----------------------------------------------------------------- wiring
    def build_generator(self):
        raise NotImplementedError

    def build_discriminator(self):
        raise NotImplementedError

    @property
    def image_shape(self):
        return (self.image_size, self.image_size, self.channels)

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            image_size=self.image_size,
            channels=self.channels,
            seed=self.seed,
        )
        return config

    # --------------------------------------------------------------- compile
    def compile(self, d_optimizer, g_optimizer, loss="non_saturating", **kwargs):
        """Attach one optimizer per sub-model and the adversarial loss.

        Both optimizers are built here on the sub-models' trainable weights, so
        call `compile` inside `strategy.scope()` when training distributed.

        Args:
            d_optimizer: a `keras.optimizers.Optimizer` (or identifier) for D.
            g_optimizer: a `keras.optimizers.Optimizer` (or identifier) for G.
            loss: str. ``"non_saturating"``, ``"hinge"`` or ``"wasserstein"``.
        """
        super().compile(**kwargs)
        self.d_optimizer = keras.optimizers.get(d_optimizer)
        self.g_optimizer = keras.optimizers.get(g_optimizer)
        if self.d_optimizer is self.g_optimizer:
            raise ValueError("compile: d_optimizer and g_optimizer must be two optimizer objects")
        self.d_loss_fn, self.g_loss_fn = get_adversarial_loss(loss)
        self.loss_name = loss
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        if not getattr(self, "compiled", False) or not hasattr(self, "d_optimizer"):
            return None
        return {
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            "loss": self.loss_name,
        }

    def compile_from_config(self, config):
        self.compile(
            d_optimizer=keras.optimizers.deserialize(config["d_optimizer"]),
            g_optimizer=keras.optimizers.deserialize(config["g_optimizer"]),
            loss=config.get("loss", "non_saturating"),
        )

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    # ------------------------------------------------------------------ noise
    @property
    def step(self):
        """Generator updates so far (the optimizer's iteration counter)."""
        return self.g_optimizer.iterations

    def sample_noise(self, batch_size, stream=0):
        """This replica's slice of the global noise for the current step and `stream`."""
        seed = tf.stack(
            [tf.constant(self.seed, tf.int64), tf.cast(self.step, tf.int64) * 16 + stream]
        )
        return replica_slice(
            batch_size,
            lambda n: tf.random.stateless_normal([n, self.latent_dim], seed=seed),
        )

    # ------------------------------------------------------------- training
    @staticmethod
    def unpack(data):
        """Images from a batch given as ``x``, ``(x,)`` or ``(x, y)``."""
        if isinstance(data, (tuple, list)):
            return data[0]
        return data

    def discriminator_step(self, real):
        """One update of D; returns the per-replica mean loss."""
        batch = tf.shape(real)[0]
        z = self.sample_noise(batch, stream=0)
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            per_example = self.d_loss_fn(real_logits, fake_logits)
            loss = tf.nn.compute_average_loss(per_example)
        weights = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return tf.reduce_mean(per_example)

    def generator_step(self, batch):
        """One update of G; returns the per-replica mean loss."""
        z = self.sample_noise(batch, stream=1)
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            per_example = self.g_loss_fn(self.discriminator(fake, training=True))
            loss = tf.nn.compute_average_loss(per_example)
        weights = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return tf.reduce_mean(per_example)

    def train_step(self, data):
        real = tf.cast(self.unpack(data), self.compute_dtype)
        d_loss = self.discriminator_step(real)
        g_loss = self.generator_step(tf.shape(real)[0])
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}

    # ------------------------------------------------------------- sampling
    def generate(self, n_or_z, seed=None, batch_size=256):
        """Sample images in [-1, 1] as a numpy array.

        Args:
            n_or_z: int (number of samples, noise drawn from `seed`) or an
                array of noise vectors shaped ``(n, latent_dim)``.
            seed: int or None. Seed for the noise when `n_or_z` is an int;
                None uses the model's `seed`.
            batch_size: int. Generator batch size. Defaults to 256.
        """
        if isinstance(n_or_z, (int, np.integer)):
            if n_or_z <= 0:
                raise ValueError(f"generate: n must be positive, got {n_or_z}")
            seed = self.seed if seed is None else int(seed)
            z = tf.random.stateless_normal([int(n_or_z), self.latent_dim], seed=[seed, 7919])
        else:
            z = tf.convert_to_tensor(n_or_z, tf.float32)
            if z.shape.rank != 2 or z.shape[-1] != self.latent_dim:
                raise ValueError(
                    f"generate: z must be shaped (n, {self.latent_dim}), got {tuple(z.shape)}"
                )
        outputs = [
            keras.ops.convert_to_numpy(self.generator(z[i : i + batch_size], training=False))
            for i in range(0, int(z.shape[0]), batch_size)
        ]
        return np.concatenate(outputs).astype(np.float32)
