"""`GAN`: the base of every adversarial model in the zoo."""

import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.losses import get_adversarial_loss
from keras_transfer_gan.models.architecture import Architecture, Signature, tensor_spec, to_uint8
from keras_transfer_gan.models.ema import make_ema_copy, update_ema
from keras_transfer_gan.models.inputs import prior_noise, unpack_batch
from keras_transfer_gan.utils.checks import check_positive_int
from keras_transfer_gan.utils.replicas import replica_slice


#: Image sizes of the DCGAN family (a 4x4 start doubled up to the size).
SIZES = (16, 32, 64, 128)


class GAN(Architecture, keras.Model):
    """Base class for generator/discriminator models trained adversarially.

    Subclasses build two functional sub-models in `build_generator` and
    `build_discriminator`; this class wires them, trains them with
    `train_step` (so `fit` works, and the same step runs per replica under
    any `tf.distribute` strategy through `Trainer`), and samples with `generate`.

    Subclasses change the method through small hooks rather than rewriting
    the step: `d_steps` (critic steps per generator step),
    `d_auxiliary_loss` and `g_auxiliary_loss` (extra per-example loss terms
    such as ACGAN's classification or a reconstruction, with their logged
    values), `generator_inputs` and `discriminator_outputs` (conditioning).

    Noise is drawn with stateless RNG keyed by ``(seed, step, stream)`` where
    ``step`` is the generator optimizer's iteration count, so a run restored
    from a checkpoint continues with exactly the noise it would have drawn.

    Args:
        latent_dim: int. Size of the generator's input noise.
        image_size: int. Output height and width: 16, 32, 64 or 128.
        channels: int. 1 (gray) or 3 (RGB).
        ema_decay: float or None. Keep an exponential moving average of the
            generator's weights (`generator_ema`), used for sampling and
            export. Defaults to None (off).
        seed: int. Seeds the training noise. Defaults to 0.
        **kwargs: passed to `keras.Model` (e.g. `name`).
    """

    #: Optimizer defaults the trainers use for this family (models never build optimizers).
    optimizer_defaults = {"learning_rate": 2e-4, "beta_1": 0.5}
    family = "gan"
    takes_augment = True
    generates = "images"
    optimizer_slots = ("d_optimizer", "g_optimizer")
    #: Methods that act on weights, not on named layers: any GAN takes them.
    few_shot_methods = ("l2_sp", "ewc")
    #: Whether G's hidden transposed convolutions are modulated (`ModulatedConv2DTranspose`; see DCGAN).
    modulated_kernels = False
    config_fields = ("latent_dim", "image_size", "channels", "ema_decay", "seed")
    SUPPORTED_SIZES = SIZES
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
        check_positive_int(latent_dim, "latent_dim", name)
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

    def call(self, inputs, training=False):
        """The sampler on ``z``, or ``[z, condition]`` for a conditional generator (labels or images); the
        generator's `extra_generator_inputs` are drawn from the model's seed."""
        return self.sampler(self.with_extra_inputs(inputs, self._sample_seed(None)), training=training)

    def get_config(self):
        return {**super().get_config(), **self.config_values()}

    # --------------------------------------------------------------- compile
    def compile(self, d_optimizer, g_optimizer, loss=None, augment=None, weight_penalty=None, regularizers=(),
                **kwargs):
        """Attach one optimizer per sub-model, the adversarial loss and the small-data options.

        Both optimizers are built here on the sub-models' weights, so call
        `compile` inside `strategy.scope()` when training distributed.

        Args:
            d_optimizer: a `keras.optimizers.Optimizer` (or identifier) for D.
            g_optimizer: a `keras.optimizers.Optimizer` (or identifier) for G.
            (more slots): a model declaring more `optimizer_slots` takes one optimizer per slot by its name
                (``mapping_optimizer=...``); `optimizer_groups` says which weights each updates.
            loss: str. ``"non_saturating"``, ``"hinge"`` or ``"wasserstein"``;
                None for the model's `default_loss`.
            augment: callable ``(images, seed) -> images`` applied to real and
                fake images on D's input (e.g. `DiffAugment`), or None.
            weight_penalty: callable ``(submodel) -> scalar`` added to the loss
                of each sub-model updated (e.g. `L2SP`), or None.
            regularizers: more callables like `weight_penalty`, summed with it
                (e.g. `EWC`, `CDC`); one with a ``bind(model)`` method is bound
                to this model here, and may set its `adversarial_schedule`
                (CDC's anchor regions and patch-level D).
            **kwargs: passed to `keras.Model.compile` (e.g. `steps_per_execution`).

        `augment`, `weight_penalty` and `regularizers` are training settings, not saved with the model.
        """
        extra = {slot: kwargs.pop(slot) for slot in self.optimizer_slots[2:] if slot in kwargs}
        missing = [slot for slot in self.optimizer_slots[2:] if slot not in extra]
        if missing:
            raise ValueError(f"compile: {type(self).__name__} needs an optimizer for {', '.join(missing)}")
        super().compile(**kwargs)
        self.augment = augment
        self.weight_penalty = weight_penalty
        self.regularizers = [r for r in ([weight_penalty] if weight_penalty is not None else []) + list(regularizers)]
        self.adversarial_schedule = None  # a regulariser's bind may set one (CDC's `AnchorRegions`)
        for regularizer in self.regularizers:
            if hasattr(regularizer, "bind"):
                regularizer.bind(self)
        for name in PENALTY_LOGS:  # the regularisers' size, logged apart from the adversarial losses
            if self.regularizers:
                self.trackers.setdefault(name, keras.metrics.Mean(name=name))
            else:
                self.trackers.pop(name, None)
        loss = loss or self.default_loss
        optimizers = {slot: keras.optimizers.get(opt) for slot, opt in
                      {"d_optimizer": d_optimizer, "g_optimizer": g_optimizer, **extra}.items()}
        if len({id(opt) for opt in optimizers.values()}) != len(optimizers):
            raise ValueError(f"compile: {', '.join(optimizers)} must be distinct optimizer objects")
        if self.dtype_policy.name == "mixed_float16":  # as keras.Model.compile does for `optimizer`
            if extra:
                raise ValueError("compile: mixed_float16 loss scaling takes one optimizer per loss; "
                                 f"{type(self).__name__} has {len(optimizers)} slots")
            optimizers = {slot: opt if isinstance(opt, keras.optimizers.LossScaleOptimizer)
                          else keras.optimizers.LossScaleOptimizer(opt) for slot, opt in optimizers.items()}
        for slot, opt in optimizers.items():
            setattr(self, slot, opt)
        self.d_loss_fn, self.g_loss_fn = get_adversarial_loss(loss)
        self.loss_name = loss
        # Built on every weight, not only those trainable now, so that layers
        # frozen before `compile` can be unfrozen later (and the reverse).
        for optimizer, weights in self._weights_by_optimizer(("discriminator", "generator"), trainable=False):
            optimizer.build(weights)

    def optimizer_groups(self, side):
        """``[(optimizer, layer or model), ...]``: who updates which weights of the ``"generator"`` or the
        ``"discriminator"`` (parts that do not overlap). One optimizer each by default; a model with more
        `optimizer_slots` (a mapping network's own learning rate) splits its generator here."""
        if side == "generator":
            return [(self.g_optimizer, self.generator)]
        schedule = self.adversarial_schedule
        return [(self.d_optimizer, self.discriminator)] + \
            [(self.d_optimizer, part) for part in (schedule.parts() if schedule is not None else ())]

    def apply_updates(self, side, tape, scaled_loss):
        """Gradients of `scaled_loss` applied by each optimizer of `side` (once per step, on all its parts'
        trainable weights)."""
        groups = self._weights_by_optimizer((side,), trainable=True)
        weights = [w for _, part in groups for w in part]
        if not weights:  # a fully frozen side takes no step
            return
        gradients = tape.gradient(scaled_loss, weights)
        start = 0
        for optimizer, part in groups:
            if part:
                optimizer.apply_gradients(zip(gradients[start:start + len(part)], part))
            start += len(part)

    def _weights_by_optimizer(self, sides, trainable):
        """``[(optimizer, [weight, ...]), ...]``: each optimizer of `sides` once, with all its parts' (trainable)
        weights, in `optimizer_groups` order."""
        groups = {}
        for side in sides:
            for optimizer, part in self.optimizer_groups(side):
                weights = part.trainable_variables if trainable else part.weights
                groups.setdefault(id(optimizer), (optimizer, []))[1].extend(weights)
        return list(groups.values())

    def get_compile_config(self):
        if not getattr(self, "compiled", False) or not hasattr(self, "d_optimizer"):
            return None
        return {**{slot: keras.optimizers.serialize(getattr(self, slot)) for slot in self.optimizer_slots},
                "loss": self.loss_name}

    def compile_from_config(self, config):
        self.compile(**{slot: keras.optimizers.deserialize(config[slot]) for slot in self.optimizer_slots},
                     loss=config.get("loss"))

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

    def step_noise(self, batch_size, stream=0):
        """The noise a training step feeds G: `sample_noise`, or what the `adversarial_schedule` draws in its
        place (CDC's anchor regions on their steps)."""
        z = self.sample_noise(batch_size, stream=stream)
        schedule = self.adversarial_schedule
        return z if schedule is None else schedule.noise(z, stream)

    # ----------------------------------------------------------------- hooks
    #: Discriminator (critic) updates per generator update.
    d_steps = 1

    #: Weight of the adversarial term in G's loss (a subclass may mix in others).
    adv_weight = 1.0

    def generator_inputs(self, z, labels, real):
        """What the generator is called on (conditional models add labels or real images)."""
        return z

    def extra_generator_inputs(self, batch_size, seed):
        """Inputs the generator takes after ``z`` and its condition (e.g. per-layer noise maps), drawn with
        stateless RNG from `seed` (a ``[2]`` int64 tensor keyed by the step in training, by the sample seed
        when sampling), so a resumed run draws exactly what it would have. None by default."""
        return []

    def with_extra_inputs(self, inputs, seed):
        """`inputs` (``z`` or ``[z, condition]``) followed by the `extra_generator_inputs` (if any)."""
        first = tf.nest.flatten(inputs)[0]
        extra = list(self.extra_generator_inputs(tf.shape(first)[0], seed))
        if not extra:
            return inputs
        return (list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]) + extra

    def _sample_seed(self, seed):
        return tf.constant([self.seed if seed is None else int(seed), -1], tf.int64)

    def _step_seed(self, stream):
        return tf.stack([tf.constant(self.seed + 3, tf.int64), tf.cast(self.step, tf.int64) * 64 + stream])

    def discriminator_outputs(self, images, labels, training):
        """``(adversarial_logits, auxiliary)``; auxiliary is None unless a subclass adds a head."""
        return self.discriminator(images, training=training), None

    def d_auxiliary_loss(self, real, fake, labels, real_aux, fake_aux):
        """Extra per-example D loss (e.g. ACGAN's classification) and the values to log; none by default."""
        if type(self).d_penalty is not GAN.d_penalty:  # a subclass of the previous release
            warnings.warn("GAN.d_penalty is deprecated: override d_auxiliary_loss", DeprecationWarning, stacklevel=2)
            return self.d_penalty(real, fake, labels, real_aux, fake_aux)
        return None, {}

    def g_auxiliary_loss(self, fake, real, labels, fake_aux):
        """Extra per-example G loss (e.g. ACGAN's classification, a reconstruction) and the values to log."""
        if type(self).g_penalty is not GAN.g_penalty:  # a subclass of the previous release
            warnings.warn("GAN.g_penalty is deprecated: override g_auxiliary_loss", DeprecationWarning, stacklevel=2)
            return self.g_penalty(fake, real, labels, fake_aux)
        return None, {}

    def d_penalty(self, real, fake, labels, real_aux, fake_aux):
        """Deprecated: the name `d_auxiliary_loss` had in the previous release."""
        return self.d_auxiliary_loss(real, fake, labels, real_aux, fake_aux)

    def g_penalty(self, fake, real, labels, fake_aux):
        """Deprecated: the name `g_auxiliary_loss` had in the previous release."""
        return self.g_auxiliary_loss(fake, real, labels, fake_aux)

    # ------------------------------------------------------------- training
    def d_input(self, images, stream):
        """Images as D sees them: through `augment` when one is set (keyed by step and stream)."""
        if getattr(self, "augment", None) is None:
            return images
        seed = tf.stack([tf.constant(self.seed + 2, tf.int64), tf.cast(self.step, tf.int64) * 64 + stream])
        return self.augment(images, seed)

    def penalty_of(self, submodel, logs=None, name=None):
        """The regularizers' sum for a sub-model, divided among replicas (their gradients are summed); with
        `logs`, the undivided sum is logged under `name` (``g_penalty``, ``d_penalty``)."""
        regularizers = getattr(self, "regularizers", ())
        if not regularizers:
            return 0.0
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        total = tf.add_n([tf.cast(r(submodel), tf.float32) for r in regularizers])
        if logs is not None:
            logs[name] = total
        return total / replicas

    def discriminator_step(self, real, labels, stream=0):
        """One update of D; returns the per-replica values to log."""
        z = self.step_noise(tf.shape(real)[0], stream=stream)
        schedule = self.adversarial_schedule
        with tf.GradientTape() as tape:
            fake = self.generator(self.with_extra_inputs(self.generator_inputs(z, labels, real),
                                                         self._step_seed(stream)), training=True)
            real_in, fake_in = self.d_input(real, 8 + stream), self.d_input(fake, 16 + stream)
            real_logits, real_aux = self.discriminator_outputs(real_in, labels, True)
            fake_logits, fake_aux = self.discriminator_outputs(fake_in, labels, True)
            per_example = self.d_loss_fn(real_logits, fake_logits)
            if schedule is not None:  # e.g. patch-level realism off CDC's anchor steps
                per_example = schedule.d_loss(per_example, real_in, fake_in)
            extra, logs = self.d_auxiliary_loss(real, fake, labels, real_aux, fake_aux)
            total = per_example if extra is None else per_example + extra
            loss = tf.nn.compute_average_loss(total) + self.penalty_of(self.discriminator, logs, "d_penalty")
            scaled = self.d_optimizer.scale_loss(loss)  # loss scaling under mixed_float16, else the identity
        if hasattr(getattr(self, "augment", None), "update"):  # adaptive augmentation (ADA)
            self.augment.update(real_logits)
        self.apply_updates("discriminator", tape, scaled)
        return {"d_loss": tf.reduce_mean(total), **logs}

    def generator_step(self, real, labels):
        """One update of G; returns the per-replica values to log."""
        z = self.step_noise(tf.shape(real)[0], stream=32)
        schedule = self.adversarial_schedule
        with tf.GradientTape() as tape:
            fake = self.generator(self.with_extra_inputs(self.generator_inputs(z, labels, real),
                                                         self._step_seed(32)), training=True)
            fake_in = self.d_input(fake, 40)
            fake_logits, fake_aux = self.discriminator_outputs(fake_in, labels, True)
            adversarial = self.g_loss_fn(fake_logits)
            if schedule is not None:
                adversarial = schedule.g_loss(adversarial, fake_in)
            per_example = self.adv_weight * adversarial
            extra, logs = self.g_auxiliary_loss(fake, real, labels, fake_aux)
            total = per_example if extra is None else per_example + extra
            loss = tf.nn.compute_average_loss(total) + self.penalty_of(self.generator, logs, "g_penalty")
            scaled = self.g_optimizer.scale_loss(loss)
        self.apply_updates("generator", tape, scaled)
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

    def _run_sampler(self, inputs, batch_size, seed=None):
        inputs = self.with_extra_inputs(inputs, self._sample_seed(seed))
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
        return self._run_sampler(self._noise(n_or_z, seed), batch_size, seed)

    # --------------------------------------------------------- architecture
    def sample(self, n, conditions=None, seed=None, **options):
        """`n` images in [-1, 1] (an unconditional GAN takes no conditions)."""
        if conditions is not None:
            raise ValueError(f"{type(self).__name__} takes no conditions")
        return self.generate(n, seed=seed)

    def training_state(self):
        """The augmentation when it has state (ADA's probability p) and the adversarial schedule's weights (CDC's
        patch head): checkpoints hold them."""
        augment = getattr(self, "augment", None)
        schedule = self.adversarial_schedule
        return {**({"augment": augment} if isinstance(augment, tf.Module) else {}),
                **(schedule.state() if schedule is not None else {})}

    def feature_network(self):
        """The discriminator's body: images to its flattened features (``d_flatten``)."""
        d = self.discriminator
        return keras.Model(d.inputs[0], d.get_layer("d_flatten").output, name="d_features")

    def _condition_spec(self, batch_size):
        """The serving input a conditional generator reads besides ``z`` (None: unconditional)."""
        return None

    def serving_signatures(self, batch_size=None, seq_len=None):
        """``serving_default(z[, condition]) -> images`` and in-graph sampling to uint8.

        ``generate_uint8(batch_size)`` / ``generate_uint8_seeded(batch_size, seed)``; a conditional
        generator takes its condition (labels or images) instead of ``batch_size``, one image each.
        """
        b, latent, sampler = batch_size, self.latent_dim, self.sampler
        z_spec = tensor_spec([b, latent], tf.float32, "z")
        extra = self._condition_spec(b)

        def images_of(z, condition=None, seed=None):
            inputs = [z, condition] if condition is not None else z
            key = self._sample_seed(None) if seed is None else tf.stack([tf.cast(seed, tf.int64), tf.constant(-1, tf.int64)])
            return tf.cast(sampler(self.with_extra_inputs(inputs, key), training=False), tf.float32)

        def noise(n, seed=None):
            shape = [n, latent]
            return tf.random.normal(shape) if seed is None else tf.random.stateless_normal(shape, tf.stack([seed, 0]))

        if extra is None:
            count = tensor_spec([], tf.int32, "batch_size")
            return {
                "serving_default": Signature("serving_default", lambda z: {"images": images_of(z)}, [z_spec],
                                             ("images",)),
                "generate_uint8": Signature("generate_uint8", lambda batch_size: {
                    "images": to_uint8(images_of(noise(batch_size)))}, [count], ("images",)),
                "generate_uint8_seeded": Signature("generate_uint8_seeded", lambda batch_size, seed: {
                    "images": to_uint8(images_of(noise(batch_size, seed), seed=seed))},
                    [count, tensor_spec([], tf.int32, "seed")], ("images",)),
            }
        return {
            "serving_default": Signature("serving_default", lambda z, c: {"images": images_of(z, c)},
                                         [z_spec, extra], ("images",)),
            "generate_uint8": Signature("generate_uint8", lambda c: {
                "images": to_uint8(images_of(noise(tf.shape(c)[0]), c))}, [extra], ("images",)),
            "generate_uint8_seeded": Signature("generate_uint8_seeded", lambda c, seed: {
                "images": to_uint8(images_of(noise(tf.shape(c)[0], seed), c, seed))},
                [extra, tensor_spec([], tf.int32, "seed")], ("images",)),
        }


#: The logged sizes of the regularisers' terms (with any regulariser compiled in), per sub-model.
PENALTY_LOGS = ("d_penalty", "g_penalty")

#: Registration settings the GAN files share: the tiny test configuration, synchronised batch norm on more
#: than one replica (moving averages are not all-reduced like gradients; global batch statistics keep them
#: identical on every replica and worker), and the gallery's filters.
GAN_TINY = dict(latent_dim=16, image_size=16, g_filters=8, d_filters=8)
SYNC_BN = dict(sync_batchnorm=True)
SMALL_FILTERS = {"g_filters": 32, "d_filters": 32}
