"""DDIM (Song et al., 2021) on a small U-Net denoiser: a diffusion model sized for few-shot work on a CPU."""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.layers import SinusoidalEmbedding
from keras_transfer_gan.models.architecture import Architecture, Signature, tensor_spec, to_uint8
from keras_transfer_gan.models.ema import make_ema_copy
from keras_transfer_gan.models.inputs import class_labels
from keras_transfer_gan.models.label_conditioned import LabelConditioned
from keras_transfer_gan.models.single_optimizer_model import SingleOptimizerModel
from keras_transfer_gan.registry import register_model
from keras_transfer_gan.utils.replicas import replica_slice

PREDICTIONS = ("eps", "v")
#: Images the sampler denoises at once (`sample` draws every image's noise first, so chunks change nothing).
SAMPLE_CHUNK = 256


def diffusion_schedule(times, min_signal_rate=0.02, max_signal_rate=0.95):
    """The continuous cosine schedule in angle form: diffusion times in [0, 1] -> ``(noise_rates, signal_rates)``,
    ``cos`` and ``sin`` of an angle moving linearly from ``acos(max_signal_rate)`` to ``acos(min_signal_rate)``,
    so ``noise ** 2 + signal ** 2 == 1`` at every time."""
    start, end = math.acos(max_signal_rate), math.acos(min_signal_rate)
    angles = start + tf.cast(times, tf.float32) * (end - start)
    return tf.sin(angles), tf.cos(angles)


def _group_norm(x, groups, name):
    return keras.layers.GroupNormalization(min(groups, int(x.shape[-1])), epsilon=1e-5, name=name)(x)


def adapter_branch(x, embedding, width, dim, patch, name):
    """DPMs-ANT's adaptor beside a block: `x` average-pooled by `patch`, normalised, a 3x3 conv to `dim`
    channels (plus the noise-level embedding projected, when given), one transformer block (self-attention
    and an MLP, pre-norm) over the pooled positions, nearest upsampling back, normalised, a 3x3 conv to `width`.
    Its convolutions and dense layers start near zero (N(0, 2e-4), as the authors'), so the adapted model
    first computes what the source did. Every layer is named ``{name}_...`` with ``adapter`` in it."""
    size = int(x.shape[1])
    patch = min(patch, size)
    small = keras.initializers.RandomNormal(stddev=2e-4, seed=0)
    h = keras.layers.AveragePooling2D(patch, name=f"{name}_pool")(x)
    h = _group_norm(h, max(1, int(x.shape[-1]) // 2), f"{name}_norm0")
    h = keras.layers.Conv2D(dim, 3, padding="same", kernel_initializer=small, name=f"{name}_down")(h)
    if embedding is not None:
        t = keras.layers.Dense(dim, kernel_initializer=small, name=f"{name}_emb")(
            keras.layers.Activation("swish", name=f"{name}_emb_act")(embedding))
        h = keras.layers.Add(name=f"{name}_add_emb")([h, keras.layers.Reshape((1, 1, dim), name=f"{name}_emb_hw")(t)])
    cells = size // patch
    tokens = keras.layers.Reshape((cells * cells, dim), name=f"{name}_tokens")(h)
    a = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_ln0")(tokens)
    a = keras.layers.MultiHeadAttention(4, max(1, dim // 4), output_shape=dim, kernel_initializer=small,
                                        name=f"{name}_mha")(a, a)
    tokens = keras.layers.Add(name=f"{name}_attn_out")([tokens, a])
    m = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_ln1")(tokens)
    m = keras.layers.Dense(4 * dim, activation="gelu", kernel_initializer=small, name=f"{name}_fc0")(m)
    m = keras.layers.Dense(dim, kernel_initializer=small, name=f"{name}_fc1")(m)
    tokens = keras.layers.Add(name=f"{name}_mlp_out")([tokens, m])
    h = keras.layers.Reshape((cells, cells, dim), name=f"{name}_map")(tokens)
    h = keras.layers.UpSampling2D(patch, interpolation="nearest", name=f"{name}_upsample")(h)
    h = _group_norm(h, max(1, dim // 4), f"{name}_norm1")
    return keras.layers.Conv2D(width, 3, padding="same", kernel_initializer=small, name=f"{name}_up")(h)


def residual_block(x, embedding, width, groups, name, adapter=None):
    """GroupNorm-swish-conv, plus the noise-level embedding projected to `width`, GroupNorm-swish-conv (zero
    initialised: the block starts as its skip), added to the input (a 1x1 conv where the width changes); with
    `adapter` (``(dim, patch)``), an `adapter_branch` on the block's input is added to its output."""
    skip = x if int(x.shape[-1]) == width else keras.layers.Conv2D(width, 1, name=f"{name}_skip")(x)
    h = keras.layers.Activation("swish", name=f"{name}_act0")(_group_norm(x, groups, f"{name}_norm0"))
    h = keras.layers.Conv2D(width, 3, padding="same", name=f"{name}_conv0")(h)
    shift = keras.layers.Dense(width, name=f"{name}_emb")(embedding)
    h = keras.layers.Add(name=f"{name}_add_emb")([h, keras.layers.Reshape((1, 1, width), name=f"{name}_emb_hw")(shift)])
    h = keras.layers.Activation("swish", name=f"{name}_act1")(_group_norm(h, groups, f"{name}_norm1"))
    h = keras.layers.Conv2D(width, 3, padding="same", kernel_initializer="zeros", name=f"{name}_conv1")(h)
    if adapter is None:
        return keras.layers.Add(name=f"{name}_out")([skip, h])
    side = adapter_branch(x, embedding, width, *adapter, name=f"{name}_adapter")
    return keras.layers.Add(name=f"{name}_out")([skip, h, side])


def attention_block(x, groups, name, heads=1):
    """Self-attention over the positions of a small feature map (GroupNorm, one head, residual; the output
    projection zero-initialised)."""
    size, width = int(x.shape[1]), int(x.shape[-1])
    h = keras.layers.Reshape((size * size, width), name=f"{name}_tokens")(_group_norm(x, groups, f"{name}_norm"))
    h = keras.layers.MultiHeadAttention(heads, width // heads, output_shape=width, name=f"{name}_mha",
                                        kernel_initializer="glorot_uniform")(h, h)
    h = keras.layers.Reshape((size, size, width), name=f"{name}_map")(h)
    return keras.layers.Add(name=f"{name}_out")([x, h])


def build_unet(image_size, channels, widths, block_depth, attention, embedding_dims, groups, num_classes=0,
               adapter=None):
    """The denoiser: ``[noisy_images, noise_level(, labels)] -> prediction`` (float32, the image's shape).

    The noise level (the noise rate of the schedule) enters as a sinusoidal embedding of its variance through a
    two-layer MLP, added inside every residual block (with a class's learned embedding when conditional). Down
    path: per width, `block_depth` residual blocks (each output kept for a skip), then 2x average pooling;
    middle: two blocks; up path: per width, 2x upsampling, then `block_depth` blocks each on its skip
    concatenated. Self-attention follows each block at 8x8 when `attention`. With `adapter` (``(dim, patch)``),
    DPMs-ANT's adaptors sit beside every residual block and the output layer (`adapter_branch`)."""
    noisy = keras.Input((image_size, image_size, channels), name="noisy_images")
    level = keras.Input((), name="noise_level")
    inputs = [noisy, level]
    # float32 under any policy, as the embedding: a bfloat16 variance loses the high frequencies' phase
    variance = keras.layers.Multiply(dtype="float32", name="dn_noise_variance")([level, level])
    emb = SinusoidalEmbedding(embedding_dims, name="dn_level_sin")(variance)
    emb = keras.layers.Dense(4 * embedding_dims, activation="swish", name="dn_level_fc0")(emb)
    emb = keras.layers.Dense(4 * embedding_dims, activation="swish", name="dn_level_fc1")(emb)
    if num_classes:
        label = keras.Input((), dtype="int32", name="labels")
        inputs.append(label)
        emb = keras.layers.Add(name="dn_condition")([emb, keras.layers.Embedding(
            num_classes, 4 * embedding_dims, name="dn_label_embed")(label)])
    x = keras.layers.Conv2D(widths[0], 3, padding="same", name="dn_in")(noisy)
    skips = []
    for i, width in enumerate(widths):
        for j in range(block_depth):
            x = residual_block(x, emb, width, groups, f"dn_down{i}_{j}", adapter)
            if attention and int(x.shape[1]) == 8:
                x = attention_block(x, groups, f"dn_down{i}_{j}_attn")
            skips.append(x)
        if i < len(widths) - 1:
            x = keras.layers.AveragePooling2D(2, name=f"dn_down{i}_pool")(x)
    x = residual_block(x, emb, widths[-1], groups, "dn_mid0", adapter)
    if attention and int(x.shape[1]) == 8:
        x = attention_block(x, groups, "dn_mid_attn")
    x = residual_block(x, emb, widths[-1], groups, "dn_mid1", adapter)
    for i in reversed(range(len(widths))):
        if int(x.shape[1]) != int(skips[-1].shape[1]):
            x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"dn_up{i}_upsample")(x)
        for j in range(block_depth):
            x = keras.layers.Concatenate(name=f"dn_up{i}_{j}_concat")([x, skips.pop()])
            x = residual_block(x, emb, widths[i], groups, f"dn_up{i}_{j}", adapter)
            if attention and int(x.shape[1]) == 8:
                x = attention_block(x, groups, f"dn_up{i}_{j}_attn")
        if i > 0:
            x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"dn_up{i}_to{i - 1}")(x)
    features = x
    x = keras.layers.Activation("swish", name="dn_out_act")(_group_norm(x, groups, "dn_out_norm"))
    out = keras.layers.Conv2D(channels, 3, padding="same", kernel_initializer="zeros", name="dn_out")(x)
    if adapter is not None:  # the authors' end adaptor: beside the output layer, without the embedding
        out = keras.layers.Add(name="dn_out_sum")(
            [out, adapter_branch(features, None, channels, *adapter, name="dn_out_adapter")])
    out = keras.layers.Activation("linear", dtype="float32", name="dn_out_f32")(out)
    return keras.Model(inputs, out, name="denoiser")


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class DDIM(LabelConditioned, SingleOptimizerModel):
    """A denoising diffusion model sampled by DDIM, its denoiser a small U-Net (0.5-2M weights at 32x32).

    Training: per image a diffusion time ``t ~ U(0, 1)``, the schedule's noise and signal rates
    (`diffusion_schedule`: the continuous cosine schedule in angle form, as keras-io's DDIM example), noisy
    images ``signal * x + noise * eps``; the denoiser predicts ``eps`` or ``v = signal * eps - noise * x``
    (`prediction`) and the loss is the mean squared error of that prediction. The EMA copy of the denoiser
    (`ema_decay`) samples and is exported; its decay warms up (`ema_warmup`, `ema_decay_now`) so that a short
    run, a few hundred fine-tuning steps from a source, samples from the weights it trained.

    Sampling (`sample`): from pure noise at ``t = 1``, `steps` DDIM updates to ``t = 0`` (eta = 0:
    deterministic; eta = 1: DDPM-like ancestral noise), the whole loop one `tf.function` over a
    `tf.while_loop`, so a different number of steps does not retrace per step; the result is the last
    step's clean-image estimate, clipped to [-1, 1].

    Args:
        image_size: int. 16, 32 or 64. Defaults to 32.
        channels: int. 1 or 3. Defaults to 1.
        widths: tuple of ints. The U-Net's width per resolution. Defaults to (32, 64, 80) (1.6M weights at
            32x32).
        block_depth: int. Residual blocks per resolution and path. Defaults to 2.
        attention: bool. Self-attention after the blocks at 8x8. Defaults to True.
        embedding_dims: int. Width of the sinusoidal noise-level embedding. Defaults to 32.
        prediction: ``"eps"`` or ``"v"``. What the denoiser predicts. Defaults to ``"eps"``.
        min_signal_rate, max_signal_rate: floats. The schedule's ends. Defaults to 0.02 and 0.95.
        sampling_steps: int. Steps `sample` takes when not told (evaluation and callbacks use it). Defaults to 25.
        num_classes: int. 0, or >= 2 for class conditioning (a label embedding added to the noise-level one).
        groups: int. Group norm's groups. Defaults to 8.
        adapter_dim: int. 0, or DPMs-ANT's adaptors of that width beside every residual block and the output
            layer (`adapter_branch`; `transfer.adapter_target` trains them alone). Defaults to 0.
        adapter_patch: int. The adaptors' pooling patch. Defaults to 4.
        lora_rank: int. 0, or LoRA of that rank on every convolution and dense layer of the denoiser (and its
            EMA copy) through Keras' own `enable_lora`: each kernel frozen beside its trainable low-rank factors
            (`transfer.lora_target` freezes the rest; `transfer.merge_lora` folds them back). Defaults to 0.
        ema_decay: float or None. Defaults to 0.999.
        ema_warmup: bool. The EMA's decay at optimizer step ``k`` is ``min(ema_decay, (1 + k) / (10 + k))``
            (diffusers' `EMAModel`; keras-io's example keeps 0.999 from the start): without it, 200 fine-tuning
            steps leave 0.999 ** 200 = 82% of the source in the network that samples. From step 8,991 on
            the two agree (at 0.999). Defaults to True.
        seed: int. Seeds the training noise. Defaults to 0.
    """

    family = "diffusion"
    generates = "images"
    default_signature = "denoise"
    sample_options = ("steps", "eta")
    optimizer_defaults = {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999}
    transfer_heads = {"dn_in": "input_channels", "dn_out": "output_channels", "dn_label_embed": "class_rows"}
    few_shot_methods = ("l2_sp", "lora", "adapters")
    PROBE_SCALARS = {**Architecture.PROBE_SCALARS, "steps": 3}
    config_fields = ("image_size", "channels", "widths", "block_depth", "attention", "embedding_dims", "prediction",
                     "min_signal_rate", "max_signal_rate", "sampling_steps", "num_classes", "groups", "adapter_dim",
                     "adapter_patch", "lora_rank", "ema_decay", "ema_warmup", "seed")

    def __init__(self, image_size=32, channels=1, widths=(32, 64, 80), block_depth=2, attention=True,
                 embedding_dims=32, prediction="eps", min_signal_rate=0.02, max_signal_rate=0.95, sampling_steps=25,
                 num_classes=0, groups=8, adapter_dim=0, adapter_patch=4, lora_rank=0, ema_decay=0.999,
                 ema_warmup=True, seed=0, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        widths = tuple(int(w) for w in widths)
        if image_size not in (16, 32, 64):
            raise ValueError(f"{name}: image_size must be 16, 32 or 64, got {image_size!r}")
        if channels not in (1, 3):
            raise ValueError(f"{name}: channels must be 1 or 3, got {channels!r}")
        if not widths or image_size // 2 ** (len(widths) - 1) < 4:
            raise ValueError(f"{name}: widths must give 1 to {int(math.log2(image_size)) - 1} resolutions for "
                             f"{image_size}px, got {widths!r}")
        if prediction not in PREDICTIONS:
            raise ValueError(f"{name}: prediction must be one of {PREDICTIONS}, got {prediction!r}")
        if not 0.0 < min_signal_rate < max_signal_rate < 1.0:
            raise ValueError(f"{name}: need 0 < min_signal_rate < max_signal_rate < 1, got {min_signal_rate!r}, "
                             f"{max_signal_rate!r}")
        if sampling_steps < 1 or block_depth < 1:
            raise ValueError(f"{name}: sampling_steps and block_depth must be >= 1, got {sampling_steps!r}, "
                             f"{block_depth!r}")
        if num_classes == 1 or num_classes < 0:
            raise ValueError(f"{name}: num_classes must be 0 (unconditional) or >= 2, got {num_classes!r}")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"{name}: ema_decay must be in (0, 1), got {ema_decay!r}")
        if lora_rank < 0 or adapter_dim < 0 or adapter_patch < 1:
            raise ValueError(f"{name}: lora_rank and adapter_dim must be >= 0 and adapter_patch >= 1, got "
                             f"{lora_rank!r}, {adapter_dim!r}, {adapter_patch!r}")
        self.image_size, self.channels, self.widths = int(image_size), int(channels), widths
        self.block_depth, self.attention, self.embedding_dims = int(block_depth), bool(attention), int(embedding_dims)
        self.prediction = prediction
        self.min_signal_rate, self.max_signal_rate = float(min_signal_rate), float(max_signal_rate)
        self.sampling_steps, self.num_classes, self.groups = int(sampling_steps), int(num_classes), int(groups)
        self.ema_decay, self.seed, self.lora_rank = ema_decay, int(seed), int(lora_rank)
        self.ema_warmup = bool(ema_warmup)
        self.adapter_dim, self.adapter_patch = int(adapter_dim), int(adapter_patch)
        self.denoiser = build_unet(self.image_size, self.channels, widths, self.block_depth, self.attention,
                                   self.embedding_dims, self.groups, self.num_classes,
                                   (self.adapter_dim, self.adapter_patch) if self.adapter_dim else None)
        self.denoiser_ema = make_ema_copy(self.denoiser) if ema_decay is not None else None
        if self.lora_rank:  # on both networks alike (a clone would rebuild the attention's projections plain)
            for network in (self.denoiser, self.denoiser_ema):
                for layer in self.lora_layers(network) if network is not None else ():
                    layer.enable_lora(self.lora_rank)
            if self.denoiser_ema is not None:
                self.denoiser_ema.set_weights(self.denoiser.get_weights())
        self.trackers = {"loss": keras.metrics.Mean(name="loss")}
        self._sampler_fn = None
        self.built = True

    def get_config(self):
        config = super().get_config()
        config["widths"] = list(self.widths)
        return config

    @property
    def image_shape(self):
        return (self.image_size, self.image_size, self.channels)

    def lora_layers(self, network=None):
        """The layers LoRA adapts (with `lora_rank`): every convolution and dense layer of the denoiser, the
        attention's projections included, in a fixed order (adaptors aside); none without `lora_rank`."""
        if not self.lora_rank:
            return []
        network = network or self.denoiser
        kinds = (keras.layers.Conv2D, keras.layers.Dense, keras.layers.EinsumDense)
        return [inner for layer in network.layers if not self.is_adapter_layer(layer.name)
                for inner in layer._flatten_layers(include_self=True) if isinstance(inner, kinds)]

    @staticmethod
    def is_adapter_layer(name):
        """Whether the denoiser's layer `name` belongs to an adaptor (`adapter_dim`)."""
        return "_adapter" in name

    def schedule(self, times):
        """``(noise_rates, signal_rates)`` at diffusion times in [0, 1] (`diffusion_schedule`)."""
        return diffusion_schedule(times, self.min_signal_rate, self.max_signal_rate)

    # ------------------------------------------------------------- training
    def compile(self, optimizer="adam", regularizers=(), pairwise=None, **kwargs):
        """As `SingleOptimizerModel.compile`; `pairwise` (a `PairwiseSimilarity`: DDPM-PA's loss against a
        frozen source) adds its term to every image's loss, tracked as ``pairwise_loss``. Training settings,
        not saved with the model."""
        super().compile(optimizer=optimizer, regularizers=regularizers, **kwargs)
        self.pairwise = pairwise.bind(self) if pairwise is not None else None
        if self.pairwise is not None:
            self.trackers["pairwise_loss"] = keras.metrics.Mean(name="pairwise_loss")
        else:
            self.trackers.pop("pairwise_loss", None)

    def denoiser_inputs(self, noisy, noise_rates, labels):
        """The denoiser's inputs: ``[noisy_images, noise_level(, labels)]``."""
        return [noisy, noise_rates] + ([labels] if self.num_classes else [])

    def split_prediction(self, prediction, noisy, noise_rates, signal_rates):
        """``(clean images, noise)`` estimated from the denoiser's `prediction` (eps or v) of `noisy`."""
        n, s = noise_rates[:, None, None, None], signal_rates[:, None, None, None]
        if self.prediction == "eps":
            return (noisy - n * prediction) / s, prediction
        return s * noisy - n * prediction, n * noisy + s * prediction

    def denoise(self, noisy, noise_rates, signal_rates, labels=None, network=None, training=False):
        """``(clean images, noise)`` estimated by `network` (default: the sampling network) from noisy images."""
        network = network or self.sampler
        prediction = network(self.denoiser_inputs(noisy, noise_rates, labels), training=training)
        return self.split_prediction(tf.cast(prediction, tf.float32), noisy, noise_rates, signal_rates)

    def noised(self, images, seed):
        """``(noisy, eps, noise_rates, signal_rates)``: a diffusion time per image (uniform) and its noise, drawn
        for the global batch from `seed` (a [2] int tensor) and sliced to this replica's rows."""
        b = tf.shape(images)[0]
        times = replica_slice(b, lambda n: tf.random.stateless_uniform([n], seed=seed))
        eps = replica_slice(b, lambda n: tf.random.stateless_normal(
            tf.concat([[n], tf.constant(self.image_shape)], 0), seed=seed + 1))
        noise_rates, signal_rates = self.schedule(times)
        noisy = signal_rates[:, None, None, None] * images + noise_rates[:, None, None, None] * eps
        return noisy, eps, noise_rates, signal_rates

    def per_example_losses(self, images, labels):
        """The squared error of the prediction (eps, or v) per image, at a random diffusion time each."""
        images = tf.cast(images, tf.float32)
        if self.num_classes:
            if labels is None:
                raise ValueError("a conditional DDIM needs labels: load the data with labels=True")
            labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(self.optimizer.iterations, tf.int64)])
        noisy, eps, noise_rates, signal_rates = self.noised(images, seed)
        target = eps if self.prediction == "eps" else (signal_rates[:, None, None, None] * eps
                                                       - noise_rates[:, None, None, None] * images)
        prediction = tf.cast(self.denoiser(self.denoiser_inputs(noisy, noise_rates, labels), training=True), tf.float32)
        loss = tf.reduce_mean(tf.square(prediction - target), axis=[1, 2, 3])
        tracked = {"loss": loss}
        if getattr(self, "pairwise", None) is not None:
            clean, _ = self.split_prediction(prediction, noisy, noise_rates, signal_rates)
            tracked["pairwise_loss"] = self.pairwise.per_example(self, noisy, noise_rates, signal_rates, labels, clean)
            loss = loss + tracked["pairwise_loss"]
            tracked["loss"] = loss
        return loss, tracked

    def ema_pair(self):
        return self.denoiser_ema, self.denoiser

    def ema_decay_now(self):
        """`ema_decay`, with `ema_warmup` at most ``(1 + k) / (10 + k)`` at optimizer step ``k`` (counted after
        this step's update: 2/11 after the first), so a fresh optimizer, as fine-tuning starts with, warms up."""
        if not self.ema_warmup:
            return self.ema_decay
        step = tf.cast(self.optimizer.iterations, tf.float32)
        return tf.minimum(tf.constant(self.ema_decay, tf.float32), (1.0 + step) / (10.0 + step))

    def call(self, inputs, training=False):
        """The sampling network's prediction for ``[noisy_images, noise_level(, labels)]``."""
        return self.sampler(inputs, training=training)

    # ------------------------------------------------------------- sampling
    def ddim_step(self, x, index, steps, labels, eta, seed):
        """One reverse step from diffusion time ``1 - index / steps`` to ``1 - (index + 1) / steps``: the
        denoiser's clean-image and noise estimates, then ``x' = s' x0 + sqrt(n'^2 - sigma^2) eps + sigma z``
        with DDIM's ``sigma = eta * (n' / n) * sqrt(1 - (s n')^2 / (s' n)^2)``; returns ``(x', x0)``."""
        b = tf.shape(x)[0]
        step = 1.0 / tf.cast(steps, tf.float32)
        t = 1.0 - tf.cast(index, tf.float32) * step
        noise, signal = self.schedule(tf.fill([b], t))
        next_noise, next_signal = self.schedule(tf.fill([b], t - step))
        clean, eps = self.denoise(x, noise, signal, labels)
        ratio = (signal * next_noise) / (next_signal * noise)
        sigma = eta * (next_noise / noise) * tf.sqrt(tf.maximum(1.0 - tf.square(ratio), 0.0))
        direction = tf.sqrt(tf.maximum(tf.square(next_noise) - tf.square(sigma), 0.0))
        z = tf.random.stateless_normal(tf.shape(x), seed=tf.stack([tf.cast(seed, tf.int32), tf.cast(index, tf.int32)]))
        bc = (slice(None), None, None, None)
        x_next = next_signal[bc] * clean + direction[bc] * eps + sigma[bc] * z
        return x_next, clean

    def reverse_diffusion(self, initial_noise, steps, labels=None, eta=0.0, seed=0):
        """`steps` DDIM steps from `initial_noise` (at t = 1) in one `tf.while_loop`; images in [-1, 1]."""
        steps = tf.cast(steps, tf.int32)
        eta = tf.cast(eta, tf.float32)

        def body(i, x, _):
            x_next, clean = self.ddim_step(x, i, steps, labels, eta, seed)
            return i + 1, x_next, clean

        _, _, clean = tf.while_loop(lambda i, x, c: i < steps, body,
                                    (tf.constant(0), initial_noise, tf.zeros_like(initial_noise)))
        return tf.clip_by_value(clean, -1.0, 1.0)

    def reverse_diffusion_eager(self, initial_noise, steps, labels=None, eta=0.0, seed=0):
        """The same steps as `reverse_diffusion`, one Python call each (a reference for the graph's loop)."""
        x, clean = tf.convert_to_tensor(initial_noise, tf.float32), None
        for i in range(int(steps)):
            x, clean = self.ddim_step(x, tf.constant(i), tf.constant(int(steps)), labels, tf.constant(float(eta)),
                                      seed)
        return tf.clip_by_value(clean, -1.0, 1.0)

    def _compiled_sampler(self):
        if self._sampler_fn is None:
            self._sampler_fn = tf.function(self.reverse_diffusion, reduce_retracing=True)
        return self._sampler_fn

    def initial_noise(self, n, seed):
        """The noise at t = 1 for `n` images from `seed` (drawn at once: the same whatever the chunking)."""
        return tf.random.stateless_normal([int(n), *self.image_shape], seed=[int(seed), 7919])

    def sample(self, n, conditions=None, seed=None, steps=None, eta=0.0, **options):
        """`n` images in [-1, 1] (numpy) by `steps` DDIM steps (default `sampling_steps`); a conditional model's of
        the classes in `conditions` (or cycling through them); `eta` > 0 adds the stochastic sampler's noise."""
        if options:
            raise ValueError(f"DDIM.sample: unknown options {sorted(options)} (it takes steps and eta)")
        if n <= 0:
            raise ValueError(f"DDIM.sample: n must be positive, got {n}")
        steps = self.sampling_steps if steps is None else int(steps)
        if steps < 1:
            raise ValueError(f"DDIM.sample: steps must be >= 1, got {steps}")
        if eta < 0:
            raise ValueError(f"DDIM.sample: eta must be >= 0, got {eta}")
        seed = self.seed if seed is None else int(seed)
        labels = class_labels(conditions, n, self.num_classes) if self.num_classes else None
        if conditions is not None and not self.num_classes:
            raise ValueError("DDIM.sample: labels given to an unconditional model")
        noise, sampler, out = self.initial_noise(n, seed), self._compiled_sampler(), []
        for start in range(0, n, SAMPLE_CHUNK):  # chunk c's step noise is keyed by seed + c (eta > 0)
            part = slice(start, start + SAMPLE_CHUNK)
            out.append(sampler(noise[part], tf.constant(steps), None if labels is None else labels[part],
                               tf.constant(float(eta)), tf.constant(seed + start // SAMPLE_CHUNK)).numpy())
        return np.concatenate(out).astype(np.float32)

    def generate(self, n, labels=None, seed=None, steps=None):
        """`sample` by another name (the generators' `generate(n, labels, seed)`)."""
        return self.sample(n, conditions=labels, seed=seed, steps=steps)

    # --------------------------------------------------------------- export
    def serving_signatures(self, batch_size=None, seq_len=None):
        """``denoise(noisy_images, noise_level[, labels]) -> prediction, denoised`` (the network TFLite converts),
        ``sample(batch_size, steps, seed) -> images`` (the whole deterministic sampler in the graph; a
        conditional model's takes ``labels`` instead of a batch size), also ``serving_default``, and
        ``generate_uint8`` (the same, uint8 images)."""
        b, network = batch_size, self.sampler
        noisy_spec = tensor_spec([b, *self.image_shape], tf.float32, "noisy_images")
        level_spec = tensor_spec([b], tf.float32, "noise_level")
        label_spec = [tensor_spec([b], tf.int32, "labels")] if self.num_classes else []
        count_specs = label_spec or [tensor_spec([], tf.int32, "batch_size")]
        run_specs = [*count_specs, tensor_spec([], tf.int32, "steps"), tensor_spec([], tf.int32, "seed")]

        def denoise(noisy_images, noise_level, labels=None):
            noise_rates = tf.clip_by_value(noise_level, 1e-4, 1.0 - 1e-4)
            signal_rates = tf.sqrt(1.0 - tf.square(noise_rates))
            inputs = self.denoiser_inputs(noisy_images, noise_rates, labels)
            prediction = tf.cast(network(inputs, training=False), tf.float32)
            clean, _ = self.split_prediction(prediction, noisy_images, noise_rates, signal_rates)
            return {"prediction": prediction, "denoised": clean}

        def run(first, steps, seed):
            labels = first if self.num_classes else None
            n = tf.shape(first)[0] if self.num_classes else first
            noise = tf.random.stateless_normal(tf.stack([n, *self.image_shape]), seed=tf.stack([seed, 7919]))
            return self.reverse_diffusion(noise, steps, labels, 0.0, seed)

        def sample(*args):
            return {"images": run(*args)}

        def generate_uint8(*args):
            return {"images": to_uint8(run(*args))}

        return {
            "denoise": Signature("denoise", denoise, [noisy_spec, level_spec, *label_spec], ("prediction", "denoised")),
            "sample": Signature("sample", sample, run_specs, ("images",)),
            "serving_default": Signature("serving_default", sample, run_specs, ("images",)),
            "generate_uint8": Signature("generate_uint8", generate_uint8, run_specs, ("images",)),
        }

    def _probe(self, spec, shape, rng, n, seed, images):
        if spec.name == "noise_level":  # noise rates, inside (0, 1)
            return rng.uniform(0.05, 0.95, shape).astype(np.float32)
        return super()._probe(spec, shape, rng, n, seed, images)


_TINY = dict(image_size=16, widths=(8, 16), block_depth=1, embedding_dims=8, groups=4, sampling_steps=3)
register_model("ddim", DDIM, "DDIM: a small U-Net denoiser (cosine schedule, eps or v prediction, EMA)", tiny=_TINY,
               consumes="images", short_run=dict(dataset="digits", epochs=10))
register_model("cddim", lambda **kw: DDIM(**{"num_classes": 10, **kw}),
               "Class-conditional DDIM: a label embedding added to the noise-level embedding", tiny=_TINY,
               consumes="labelled_images", model_class=DDIM, short_run=dict(dataset="digits", epochs=10))
