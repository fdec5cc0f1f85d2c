"""`GAN`: the base of every adversarial model in the zoo."""

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.losses import get_adversarial_loss
from keras_transfer_gan.models.ema import make_ema_copy, update_ema


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


def prior_noise(n_or_z, latent_dim, seed):
    """Noise for sampling: `n` standard normal vectors drawn from `seed`, or a given ``z`` checked."""
    if isinstance(n_or_z, (int, np.integer)):
        if n_or_z <= 0:
            raise ValueError(f"generate: n must be positive, got {n_or_z}")
        return tf.random.stateless_normal([int(n_or_z), latent_dim], seed=[int(seed), 7919])
    z = tf.convert_to_tensor(n_or_z, tf.float32)
    if z.shape.rank != 2 or z.shape[-1] != latent_dim:
        raise ValueError(f"generate: z must be shaped (n, {latent_dim}), got {tuple(z.shape)}")
    return z


def class_labels(labels, n, num_classes):
    """int32 labels for `n` samples: given ones checked, or None cycling 0, 1, ..., num_classes - 1."""
    if labels is None:
        return tf.constant(np.arange(n) % num_classes, tf.int32)
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != n:
        raise ValueError(f"{labels.shape[0]} labels for {n} samples")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {labels.dtype}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must be in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    return tf.constant(labels, tf.int32)


def unpack_batch(data):
    """``(inputs, labels or None)`` from a batch given as ``x``, ``(x,)`` or ``(x, y)``."""
    if isinstance(data, (tuple, list)):
        return data[0], (data[1] if len(data) > 1 else None)
    return data, None


class GAN(keras.Model):
    """Base class for generator/discriminator models trained adversarially.

    Subclasses build two functional sub-models in `build_generator` and
    `build_discriminator`; this class wires them, trains them with
    `train_step` (so `fit` works, and the same step runs per replica under
    any `tf.distribute` strategy through `Trainer`), and samples with `generate`.

    Subclasses change the method through small hooks rather than rewriting
    the step: `d_steps` (critic steps per generator step), `d_penalty` and
    `g_penalty` (extra per-example loss terms with their logged values),
    `generator_inputs` and `discriminator_outputs` (conditioning).

    Noise is drawn with stateless RNG keyed by ``(seed, step, stream)`` where
    ``step`` is the generator optimizer's iteration count, so a run restored
    from a checkpoint continues with exactly the noise it would have drawn.

    Args:
        latent_dim: int. Size of the generator's input noise.
        image_size: int. Output height and width: 16, 32 or 64.
        channels: int. 1 (gray) or 3 (RGB).
        ema_decay: float or None. Keep an exponential moving average of the
            generator's weights (`generator_ema`), used for sampling and
            export. Defaults to None (off).
        seed: int. Seeds the training noise. Defaults to 0.
        **kwargs: passed to `keras.Model` (e.g. `name`).
    """

    #: Optimizer defaults the trainers use for this family (models never build optimizers).
    optimizer_defaults = {"learning_rate": 2e-4, "beta_1": 0.5}
    SUPPORTED_SIZES = (16, 32, 64)
    #: Adversarial loss used when `compile` is given none.
    default_loss = "non_saturating"
    #: Names of extra logged values (besides d_loss and g_loss) the hooks return.
    extra_metrics = ()

    def __init__(self, latent_dim=100, image_size=32, channels=1, ema_decay=None, seed=0, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        if image_size not in self.SUPPORTED_SIZES:
            raise ValueError(f"{name}: image_size must be one of {self.SUPPORTED_SIZES}, got {image_size!r}")
        if channels not in (1, 3):
            raise ValueError(f"{name}: channels must be 1 or 3, got {channels!r}")
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim <= 0:
            raise ValueError(f"{name}: latent_dim must be a positive integer, got {latent_dim!r}")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"{name}: ema_decay must be in (0, 1), got {ema_decay!r}")
        self.latent_dim = latent_dim
        self.image_size = image_size
        self.channels = channels
        self.ema_decay = ema_decay
        self.seed = int(seed)
        self.generator = self.build_generator()
        self.discriminator = self.build_discriminator()
        self.generator_ema = make_ema_copy(self.generator) if ema_decay is not None else None
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in ("d_loss", "g_loss", *self.extra_metrics)
        }
        self.loss_name = self.default_loss
        self.built = True

    # ----------------------------------------------------------------- wiring
    def build_generator(self):
        raise NotImplementedError

    def build_discriminator(self):
        raise NotImplementedError

    @property
    def image_shape(self):
        return (self.image_size, self.image_size, self.channels)

    @property
    def sampler(self):
        """The generator used for sampling and export: the EMA copy when on."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def call(self, z, training=False):
        return self.sampler(z, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            image_size=self.image_size,
            channels=self.channels,
            ema_decay=self.ema_decay,
            seed=self.seed,
        )
        return config

    # --------------------------------------------------------------- compile
    def compile(self, d_optimizer, g_optimizer, loss=None, augment=None, weight_penalty=None, regularizers=(),
                **kwargs):
        """Attach one optimizer per sub-model, the adversarial loss and the small-data options.

        Both optimizers are built here on the sub-models' weights, so call
        `compile` inside `strategy.scope()` when training distributed.

        Args:
            d_optimizer: a `keras.optimizers.Optimizer` (or identifier) for D.
            g_optimizer: a `keras.optimizers.Optimizer` (or identifier) for G.
            loss: str. ``"non_saturating"``, ``"hinge"`` or ``"wasserstein"``;
                None for the model's `default_loss`.
            augment: callable ``(images, seed) -> images`` applied to real and
                fake images on D's input (e.g. `DiffAugment`), or None.
            weight_penalty: callable ``(submodel) -> scalar`` added to the loss
                of each sub-model updated (e.g. `L2SP`), or None.
            regularizers: more callables like `weight_penalty`, summed with it
                (e.g. `EWC`, `CDC`); one with a ``bind(model)`` method is bound
                to this model here.
            **kwargs: passed to `keras.Model.compile` (e.g. `steps_per_execution`).

        `augment`, `weight_penalty` and `regularizers` are training settings, not saved with the model.
        """
        super().compile(**kwargs)
        self.augment = augment
        self.weight_penalty = weight_penalty
        self.regularizers = [r for r in ([weight_penalty] if weight_penalty is not None else []) + list(regularizers)]
        for regularizer in self.regularizers:
            if hasattr(regularizer, "bind"):
                regularizer.bind(self)
        loss = loss or self.default_loss
        d_optimizer = keras.optimizers.get(d_optimizer)
        g_optimizer = keras.optimizers.get(g_optimizer)
        if d_optimizer is g_optimizer:
            raise ValueError("compile: d_optimizer and g_optimizer must be two optimizer objects")
        if self.dtype_policy.name == "mixed_float16":  # as keras.Model.compile does for `optimizer`
            d_optimizer, g_optimizer = (
                opt if isinstance(opt, keras.optimizers.LossScaleOptimizer) else keras.optimizers.LossScaleOptimizer(opt)
                for opt in (d_optimizer, g_optimizer)
            )
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.d_loss_fn, self.g_loss_fn = get_adversarial_loss(loss)
        self.loss_name = loss
        # Built on every weight, not only those trainable now, so that layers
        # frozen before `compile` can be unfrozen later (and the reverse).
        self.d_optimizer.build(self.discriminator.weights)
        self.g_optimizer.build(self.generator.weights)

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
            loss=config.get("loss"),
        )

    @property
    def metrics(self):
        return list(self.trackers.values())

    # ------------------------------------------------------------------ noise
    @property
    def step(self):
        """Generator updates so far (the optimizer's iteration counter)."""
        return self.g_optimizer.iterations

    def sample_noise(self, batch_size, stream=0):
        """This replica's slice of the global noise for the current step and `stream`."""
        seed = tf.stack(
            [tf.constant(self.seed, tf.int64), tf.cast(self.step, tf.int64) * 64 + stream]
        )
        return replica_slice(
            batch_size,
            lambda n: tf.random.stateless_normal([n, self.latent_dim], seed=seed),
        )

    # ----------------------------------------------------------------- hooks
    #: Discriminator (critic) updates per generator update.
    d_steps = 1

    #: Weight of the adversarial term in G's loss (a subclass may mix in others).
    adv_weight = 1.0

    def generator_inputs(self, z, labels, real):
        """What the generator is called on (conditional models add labels or real images)."""
        return z

    def discriminator_outputs(self, images, labels, training):
        """``(adversarial_logits, auxiliary)``; auxiliary is None unless a subclass adds a head."""
        return self.discriminator(images, training=training), None

    def d_penalty(self, real, fake, labels, real_aux, fake_aux):
        """Extra per-example D loss and the values to log; none by default."""
        return None, {}

    def g_penalty(self, fake, real, labels, fake_aux):
        """Extra per-example G loss and the values to log; none by default."""
        return None, {}

    # ------------------------------------------------------------- training
    def d_input(self, images, stream):
        """Images as D sees them: through `augment` when one is set (keyed by step and stream)."""
        if getattr(self, "augment", None) is None:
            return images
        seed = tf.stack([tf.constant(self.seed + 2, tf.int64), tf.cast(self.step, tf.int64) * 64 + stream])
        return self.augment(images, seed)

    def penalty_of(self, submodel):
        """The regularizers' sum for a sub-model, divided among replicas (their gradients are summed)."""
        regularizers = getattr(self, "regularizers", ())
        if not regularizers:
            return 0.0
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        return tf.add_n([tf.cast(r(submodel), tf.float32) for r in regularizers]) / replicas

    def discriminator_step(self, real, labels, stream=0):
        """One update of D; returns the per-replica values to log."""
        z = self.sample_noise(tf.shape(real)[0], stream=stream)
        with tf.GradientTape() as tape:
            fake = self.generator(self.generator_inputs(z, labels, real), training=True)
            real_logits, real_aux = self.discriminator_outputs(self.d_input(real, 8 + stream), labels, True)
            fake_logits, fake_aux = self.discriminator_outputs(self.d_input(fake, 16 + stream), labels, True)
            per_example = self.d_loss_fn(real_logits, fake_logits)
            extra, logs = self.d_penalty(real, fake, labels, real_aux, fake_aux)
            total = per_example if extra is None else per_example + extra
            loss = tf.nn.compute_average_loss(total) + self.penalty_of(self.discriminator)
            scaled = self.d_optimizer.scale_loss(loss)  # loss scaling under mixed_float16, else the identity
        if hasattr(getattr(self, "augment", None), "update"):  # adaptive augmentation (ADA)
            self.augment.update(real_logits)
        weights = self.discriminator.trainable_variables
        if weights:  # a fully frozen D takes no step
            self.d_optimizer.apply_gradients(zip(tape.gradient(scaled, weights), weights))
        return {"d_loss": tf.reduce_mean(total), **logs}

    def generator_step(self, real, labels):
        """One update of G; returns the per-replica values to log."""
        z = self.sample_noise(tf.shape(real)[0], stream=32)
        with tf.GradientTape() as tape:
            fake = self.generator(self.generator_inputs(z, labels, real), training=True)
            fake_logits, fake_aux = self.discriminator_outputs(self.d_input(fake, 40), labels, True)
            per_example = self.adv_weight * self.g_loss_fn(fake_logits)
            extra, logs = self.g_penalty(fake, real, labels, fake_aux)
            total = per_example if extra is None else per_example + extra
            loss = tf.nn.compute_average_loss(total) + self.penalty_of(self.generator)
            scaled = self.g_optimizer.scale_loss(loss)
        weights = self.generator.trainable_variables
        if weights:
            self.g_optimizer.apply_gradients(zip(tape.gradient(scaled, weights), weights))
        return {"g_loss": tf.reduce_mean(total), **logs}

    def train_step(self, data):
        real, labels = unpack_batch(data)
        # float32 whatever the policy: layers cast their inputs, losses and penalties stay float32.
        real = tf.cast(real, tf.float32)
        logs = {}
        for k in range(self.d_steps):
            logs = self.discriminator_step(real, labels, stream=k)
        logs.update(self.generator_step(real, labels))
        if self.generator_ema is not None:
            update_ema(self.generator_ema, self.generator, self.ema_decay)
        for name, value in logs.items():
            self.trackers[name].update_state(value)
        return {m.name: m.result() for m in self.metrics}

    # ------------------------------------------------------------- sampling
    def _noise(self, n_or_z, seed):
        return prior_noise(n_or_z, self.latent_dim, self.seed if seed is None else seed)

    def _run_sampler(self, inputs, batch_size):
        n = int(tf.shape(tf.nest.flatten(inputs)[0])[0])
        outputs = [
            keras.ops.convert_to_numpy(
                self.sampler(tf.nest.map_structure(lambda t: t[i : i + batch_size], inputs), training=False)
            )
            for i in range(0, n, batch_size)
        ]
        return np.concatenate(outputs).astype(np.float32)

    def generate(self, n_or_z, seed=None, batch_size=256):
        """Sample images in [-1, 1] as a numpy array (from the EMA generator when on).

        Args:
            n_or_z: int (number of samples, noise drawn from `seed`) or an
                array of noise vectors shaped ``(n, latent_dim)``.
            seed: int or None. Seed for the noise when `n_or_z` is an int;
                None uses the model's `seed`.
            batch_size: int. Generator batch size. Defaults to 256.
        """
        return self._run_sampler(self._noise(n_or_z, seed), batch_size)
