"""StyleGAN2 (Karras et al., 2020) at small scale: 16 to 128 px on a CPU."""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.layers import (AffineAdaptor, ConstantInput, EqualizedConv2D, EqualizedDense, MinibatchStd, ModulatedConv2D,
                                       SecondMomentNorm, WAverage)
from keras_transfer_gan.models.architecture import Signature, tensor_spec
from keras_transfer_gan.models.gan import GAN
from keras_transfer_gan.models.inputs import class_labels
from keras_transfer_gan.models.label_conditioned import LabelConditioned
from keras_transfer_gan.registry import register_model


def _resolutions(image_size):
    return [2 ** i for i in range(2, int(math.log2(image_size)) + 1)]


def _channels(res, image_size, filters, max_filters):
    """Channels at `res`: `filters` at the image size, doubling per halving up to `max_filters`."""
    return min(filters * (image_size // res), max_filters)


def noise_input_shapes(image_size):
    """``[(name, res), ...]``: the per-pixel noise map each synthesis layer adds (one at 4x4, two per block above)."""
    shapes = [("noise_4_1", 4)]
    for res in _resolutions(image_size)[1:]:
        shapes += [(f"noise_{res}_0", res), (f"noise_{res}_1", res)]
    return shapes


def _layer_factory(existing=None):
    """``get(name, make)``: the layer called `name` from `existing` (a built model), else ``make()`` named so."""
    def get(name, make):
        return existing.get_layer(name) if existing is not None else make(name)
    return get


def label_embedding(label, get, prefix, num_classes, units):
    """A class label's learned embedding, normalised (NVlabs: a dense layer on the one-hot label)."""
    embedded = get(f"{prefix}_embed", lambda n: keras.layers.Embedding(
        num_classes, units, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0), name=n))(label)
    return get(f"{prefix}_embed_norm", lambda n: SecondMomentNorm(name=n))(embedded)


def mapping_graph(z, get, w_dim, layers, lr_multiplier, w_avg_beta, label=None, num_classes=0):
    """z (and a label's embedding, both normalised) -> `layers` equalised dense layers (lrelu, `lr_multiplier`)
    -> w, with the tracked average."""
    x = get("map_norm", lambda n: SecondMomentNorm(name=n))(z)
    if label is not None:
        x = get("map_concat", lambda n: keras.layers.Concatenate(name=n))(
            [x, label_embedding(label, get, "map", num_classes, w_dim)])
    for i in range(layers):
        x = get(f"map_fc{i}", lambda n: EqualizedDense(w_dim, lr_multiplier=lr_multiplier, activation="lrelu",
                                                       name=n))(x)
    return get("w_avg", lambda n: WAverage(w_avg_beta, name=n))(x)


def synthesis_graph(w, noise, get, image_size, channels, filters, max_filters, latent_adaptor=False, fused=False,
                    modulated_kernels=False):
    """[w, noise maps] -> image: a learned 4x4 constant, per resolution two modulated 3x3 convolutions (the first
    upsampling) with noise, and skip ToRGB outputs summed over resolutions (bilinear upsampling between). With
    `latent_adaptor`, w first goes through an `AffineAdaptor` (``w_adaptor``, the identity until trained)."""
    if latent_adaptor:
        w = get("w_adaptor", lambda n: AffineAdaptor(name=n))(w)
    def affine(units, name):
        return get(f"{name}_affine", lambda n: EqualizedDense(units, bias_init=1.0, name=n))(w)

    top = _channels(4, image_size, filters, max_filters)
    x = get("g_const", lambda n: ConstantInput((4, 4, top), name=n))(w)
    image = None
    for res in _resolutions(image_size):
        out = _channels(res, image_size, filters, max_filters)
        for index, upsample in ([("1", False)] if res == 4 else [("0", True), ("1", False)]):
            name = f"g_{res}_conv{index}"
            styles = affine(int(x.shape[-1]), name)
            x = get(name, lambda n: ModulatedConv2D(out, 3, upsample=upsample, fused=fused,
                                                    kernel_modulation=modulated_kernels, name=n))(
                [x, styles, noise[f"noise_{res}_{index}"]])
        styles = affine(out, f"g_{res}_torgb")
        rgb = get(f"g_{res}_torgb", lambda n: ModulatedConv2D(channels, 1, demodulate=False, use_noise=False,
                                                             activation="linear", name=n))([x, styles])
        if image is not None:
            image = get(f"g_{res}_img_up", lambda n: keras.layers.UpSampling2D(2, interpolation="bilinear",
                                                                               name=n))(image)
            rgb = get(f"g_{res}_img", lambda n: keras.layers.Add(name=n))([image, rgb])
        image = rgb
    return image


def _noise_inputs(image_size):
    return {name: keras.Input((res, res, 1), name=name) for name, res in noise_input_shapes(image_size)}


def build_stylegan2_discriminator(image_size, channels, filters, max_filters, mbstd_group, num_classes=0,
                                  mapping_layers=2):
    """Residual D: FromRGB, per resolution two 3x3 convs (the second halving) beside a 1x1 skip (sums scaled by
    sqrt(0.5)), then minibatch standard deviation, a 3x3 conv, a dense layer and the logit; with `num_classes`,
    the projection of NVlabs' conditional D: the last layer gives a vector, its dot product with a mapped
    embedding of the label (scaled by 1 / sqrt(size)) is the logit."""
    image = keras.Input((image_size, image_size, channels), name="image")
    x = EqualizedConv2D(filters, 1, name="d_block1_fromrgb")(image)
    gain = math.sqrt(0.5)
    for i, res in enumerate(_resolutions(image_size)[:0:-1], start=1):  # image_size ... 8
        out = _channels(res // 2, image_size, filters, max_filters)
        skip = EqualizedConv2D(out, 1, activation="linear", use_bias=False, downsample=True, gain=gain,
                               name=f"d_block{i}_skip")(x)
        x = EqualizedConv2D(int(x.shape[-1]), 3, name=f"d_block{i}_conv0")(x)
        x = EqualizedConv2D(out, 3, downsample=True, gain=gain, name=f"d_block{i}_conv1")(x)
        x = keras.layers.Add(name=f"d_block{i}_add")([skip, x])
    top = int(x.shape[-1])
    x = MinibatchStd(mbstd_group, name="d_mbstd")(x)
    x = EqualizedConv2D(top, 3, name="d_epilogue_conv")(x)
    x = keras.layers.Flatten(name="d_flatten")(x)
    x = EqualizedDense(top, activation="lrelu", name="d_epilogue_fc")(x)
    if not num_classes:
        logits = EqualizedDense(1, name="d_logits")(x)
        logits = keras.layers.Activation("linear", dtype="float32", name="d_logits_f32")(logits)
        return keras.Model(image, logits, name="discriminator")
    label = keras.Input((), dtype="int32", name="label")
    cmap = label_embedding(label, _layer_factory(), "d_map", num_classes, top)
    for i in range(mapping_layers):
        cmap = EqualizedDense(top, lr_multiplier=0.01, activation="lrelu", name=f"d_map_fc{i}")(cmap)
    out = EqualizedDense(top, name="d_logits")(x)
    logits = keras.layers.Dot(axes=-1, name="d_projection")([out, cmap])
    logits = keras.layers.Rescaling(1.0 / math.sqrt(top), name="d_projection_scale")(logits)
    logits = keras.layers.Activation("linear", dtype="float32", name="d_logits_f32")(logits)
    return keras.Model([image, label], logits, name="discriminator")


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class StyleGAN2(LabelConditioned, GAN):
    """StyleGAN2 (Karras et al., 2020) sized for a CPU, after NVlabs' ``stylegan2-ada-pytorch`` networks.

    Mapping network (z -> w; `mapping_layers` equalised dense layers at learning-rate multiplier
    `mapping_lr_multiplier`, 0.01 as in the paper; the average w tracked for truncation), synthesis network
    (a learned 4x4 constant, modulated and demodulated 3x3 convolutions in the non-fused form, per-pixel noise
    with learned strengths starting at 0, skip ToRGB outputs), residual discriminator with minibatch standard
    deviation, equalised learning rate everywhere, non-saturating loss with lazy R1 (`r1_gamma` every
    `r1_interval` steps, scaled by the interval). The noise maps are generator inputs
    (`extra_generator_inputs`), drawn from the step in training, so a resumed run continues exactly, and
    from the sample seed when sampling (a SavedModel and a TFLite model take them as inputs).

    Departures from NVlabs: bilinear up/downsampling (theirs: [1, 3, 3, 1] FIR filters with transposed /
    strided convolutions); no path-length regularisation and no style mixing (as NVlabs' own CIFAR configuration); one w for every
    layer; R1 on the un-augmented real images.

    Args:
        latent_dim: int. Size of z. Defaults to 64.
        w_dim: int. Size of w. Defaults to 64.
        mapping_layers: int. Defaults to 2 (NVlabs' CIFAR configuration; 8 in the paper).
        mapping_lr_multiplier: float. Defaults to 0.01.
        filters: int. Channels at the output resolution (doubling per halving). Defaults to 32.
        max_filters: int. Cap on the channels. Defaults to 128.
        r1_gamma: float. R1 weight. Defaults to 0.1.
        r1_interval: int. Lazy R1 every this many steps. Defaults to 16.
        mbstd_group: int. Minibatch standard deviation group. Defaults to 4.
        w_avg_beta: float. Decay of the tracked average w. Defaults to 0.995.
        latent_adaptor: bool. An identity-initialised affine map of w before synthesis (``w_adaptor``; GenDA's
            latent adaptor, which `latent_adaptor_target` trains alone). Defaults to False.
        fused_modconv: bool. Modulated convolutions as one grouped convolution per layer (the same result;
            see `ModulatedConv2D`). Defaults to False.
        modulated_kernels: bool. AdAM's rank-1 modulation of each synthesis convolution's kernel (what
            ``--scale_shift adafm`` trains, with the affine style layers; `fold_modulation` folds it back).
            Defaults to False.
        num_classes: int. 0, or >= 2 for a class-conditional model (label embedding into the mapping network,
            projection in D; trains on ``(images, labels)``). Defaults to 0.
        image_size, channels, ema_decay, seed: as `GAN`.
    """

    default_loss = "non_saturating"
    default_signature = "synthesis"
    sample_options = ("truncation",)
    #: NVlabs' Adam settings (its epsilon 1e-8 is Keras' 1e-7 here: the trainers set no epsilon).
    optimizer_defaults = {"learning_rate": 2.5e-3, "beta_1": 0.0, "beta_2": 0.99}
    transfer_heads = {"g_4_torgb": "output_channels", "g_8_torgb": "output_channels", "g_16_torgb": "output_channels",
                      "g_32_torgb": "output_channels", "g_64_torgb": "output_channels",
                      "g_128_torgb": "output_channels", "d_block1_fromrgb": "input_channels",
                      "map_embed": "class_rows", "d_map_embed": "class_rows"}
    few_shot_methods = GAN.few_shot_methods + ("freeze_d", "freeze_g", "cdc", "scale_shift", "adafm",
                                               "latent_adaptor")
    extra_metrics = ("r1",)
    config_fields = ("w_dim", "mapping_layers", "mapping_lr_multiplier", "filters", "max_filters", "r1_gamma",
                     "r1_interval", "mbstd_group", "w_avg_beta", "latent_adaptor", "fused_modconv", "num_classes",
                     "modulated_kernels")

    def __init__(self, latent_dim=64, w_dim=64, mapping_layers=2, mapping_lr_multiplier=0.01, filters=32,
                 max_filters=128, r1_gamma=0.1, r1_interval=16, mbstd_group=4, w_avg_beta=0.995, latent_adaptor=False,
                 fused_modconv=False, num_classes=0, modulated_kernels=False, **kwargs):
        if r1_gamma < 0 or r1_interval < 1:
            raise ValueError(f"StyleGAN2: r1_gamma must be >= 0 and r1_interval >= 1, got {r1_gamma!r}, "
                             f"{r1_interval!r}")
        self.w_dim, self.mapping_layers, self.mapping_lr_multiplier = int(w_dim), int(mapping_layers), \
            float(mapping_lr_multiplier)
        self.filters, self.max_filters = int(filters), int(max_filters)
        self.r1_gamma, self.r1_interval, self.mbstd_group = float(r1_gamma), int(r1_interval), int(mbstd_group)
        self.w_avg_beta, self.latent_adaptor = float(w_avg_beta), bool(latent_adaptor)
        self.fused_modconv = bool(fused_modconv)
        if num_classes and num_classes < 2:
            raise ValueError(f"StyleGAN2: num_classes must be 0 (unconditional) or >= 2, got {num_classes!r}")
        self.num_classes = int(num_classes)
        self.modulated_kernels = bool(modulated_kernels)
        super().__init__(latent_dim=latent_dim, **kwargs)

    # ----------------------------------------------------------------- wiring
    def build_generator(self):
        """One flat functional model ``[z, noise maps] -> images`` (every layer reachable by name: CDC, freezing and
        the style-path adaptations address them); `mapping` and `synthesis` are views on its layers."""
        z, noise = keras.Input((self.latent_dim,), name="z"), _noise_inputs(self.image_size)
        label = keras.Input((), dtype="int32", name="label") if self.num_classes else None
        get = _layer_factory()
        w = mapping_graph(z, get, self.w_dim, self.mapping_layers, self.mapping_lr_multiplier, self.w_avg_beta,
                          label, self.num_classes)
        images = synthesis_graph(w, noise, get, self.image_size, self.channels, self.filters, self.max_filters,
                                 self.latent_adaptor, self.fused_modconv, self.modulated_kernels)
        images = keras.layers.Activation("linear", dtype="float32", name="g_out")(images)
        return keras.Model([z, *([label] if label is not None else []), *noise.values()], images, name="generator")

    def build_discriminator(self):
        return build_stylegan2_discriminator(self.image_size, self.channels, self.filters, self.max_filters,
                                             self.mbstd_group, self.num_classes, self.mapping_layers)

    def _labels(self, labels):
        if labels is None:
            raise ValueError("a conditional StyleGAN2 trains on (images, labels) batches: load the data with "
                             "labels=True")
        return tf.cast(tf.reshape(labels, [-1]), tf.int32)

    def generator_inputs(self, z, labels, real):
        return [z, self._labels(labels)] if self.num_classes else z

    def discriminator_outputs(self, images, labels, training):
        if self.num_classes:
            return self.discriminator([images, self._labels(labels)], training=training), None
        return self.discriminator(images, training=training), None

    def extra_generator_inputs(self, batch_size, seed):
        """One N(0, 1) noise map per synthesis layer, keyed by `seed` and the layer."""
        seed = tf.cast(seed, tf.int64)
        return [tf.random.stateless_normal([batch_size, res, res, 1], seed + tf.constant([100003, 0], tf.int64) * (i + 1))
                for i, (_, res) in enumerate(noise_input_shapes(self.image_size))]

    # ------------------------------------------------------------------ R1
    def d_auxiliary_loss(self, real, fake, labels, real_aux, fake_aux):
        """Lazy R1: every `r1_interval` steps, ``r1_gamma / 2 * |grad_x D(x)|^2 * r1_interval`` on real images."""
        if self.r1_gamma == 0:
            return None, {}

        def r1():
            x = tf.identity(real)
            with tf.GradientTape() as tape:
                tape.watch(x)
                logits, _ = self.discriminator_outputs(x, labels, True)
            grads = tape.gradient(logits, x)  # of the sum over the batch: per-sample gradients
            return tf.reduce_sum(tf.square(grads), axis=[1, 2, 3])

        due = tf.equal(tf.math.floormod(tf.cast(self.step, tf.int64), self.r1_interval), 0)
        penalty = tf.cond(due, r1, lambda: tf.zeros([tf.shape(real)[0]]))
        return 0.5 * self.r1_gamma * self.r1_interval * penalty, {"r1": tf.reduce_mean(penalty)}

    # ------------------------------------------------------------- sampling
    def _views(self):
        """``(mapping, synthesis)``: models ``z -> w`` and ``[w, noise maps] -> images`` on the sampler's layers."""
        sampler = self.sampler
        if getattr(self, "_view_cache", (None,))[0] is not sampler:
            get = _layer_factory(sampler)
            z, w, noise = keras.Input((self.latent_dim,), name="z"), keras.Input((self.w_dim,), name="w"), \
                _noise_inputs(self.image_size)
            label = keras.Input((), dtype="int32", name="label") if self.num_classes else None
            mapping = keras.Model([z, label] if label is not None else z, mapping_graph(
                z, get, self.w_dim, self.mapping_layers, 0, 0, label, self.num_classes), name="mapping")
            synthesis = keras.Model([w, *noise.values()], synthesis_graph(
                w, noise, get, self.image_size, self.channels, self.filters, self.max_filters, self.latent_adaptor,
                self.fused_modconv, self.modulated_kernels),
                name="synthesis")
            object.__setattr__(self, "_view_cache", (sampler, mapping, synthesis))  # views: not tracked or saved
        return self._view_cache[1:]

    @property
    def mapping(self):
        """``z -> w`` on the sampler's (the EMA generator's, when on) layers."""
        return self._views()[0]

    @property
    def synthesis(self):
        """``[w, noise maps] -> images`` on the sampler's layers."""
        return self._views()[1]

    def truncated_images(self, z, truncation, seed, labels=None):
        """Images of ``z`` (of `labels`, a conditional model) with w pulled towards the average w by `truncation`
        (1: none)."""
        w = self.mapping([z, labels] if self.num_classes else z, training=False)
        w = self.sampler.get_layer("w_avg").truncate(w, truncation)
        noise = self.extra_generator_inputs(tf.shape(z)[0], seed)
        return self.synthesized(w, noise)

    def synthesized(self, w, noise):
        """Images of styles `w` and noise maps `noise`, clipped to [-1, 1]: the ToRGB sum is not squashed, so a
        young or drifting generator leaves the range (NVlabs clamp where they save or measure images; training
        and D see the unclipped output here as there)."""
        return tf.clip_by_value(tf.cast(self.synthesis([w, *noise], training=False), tf.float32), -1.0, 1.0)

    def _run_sampler(self, inputs, batch_size, seed=None):
        """As `GAN`'s, clipped to [-1, 1] (see `synthesized`)."""
        return np.clip(super()._run_sampler(inputs, batch_size, seed), -1.0, 1.0)

    def generate(self, n_or_z, labels=None, seed=None, batch_size=256):
        """Images of noise `n_or_z` (as `GAN.generate`); a conditional model's of `labels` (cycling through the
        classes when None)."""
        z = self._noise(n_or_z, seed)
        if not self.num_classes:
            if labels is not None:
                raise ValueError("generate: an unconditional StyleGAN2 takes no labels")
            return self._run_sampler(z, batch_size, seed)
        try:
            labels = class_labels(labels, int(z.shape[0]), self.num_classes)
        except ValueError as exc:
            raise ValueError(f"generate: {exc}") from None
        return self._run_sampler([z, labels], batch_size, seed)

    def sample(self, n, conditions=None, seed=None, truncation=1.0, **options):
        """`n` images in [-1, 1] (clipped, see `synthesized`), w truncated by `truncation`; a
        conditional model's of the labels in `conditions` (cycling through the classes when None)."""
        if conditions is not None and not self.num_classes:
            raise ValueError("an unconditional StyleGAN2 takes no conditions")
        if truncation == 1.0:
            return self.generate(n, labels=conditions, seed=seed)
        z = self._noise(n, seed)
        labels = class_labels(conditions, n, self.num_classes) if self.num_classes else None
        return self.truncated_images(z, truncation, self._sample_seed(seed), labels).numpy()

    def _condition_spec(self, batch_size):
        return tensor_spec([batch_size], tf.int32, "labels") if self.num_classes else None

    # --------------------------------------------------------- architecture
    def discriminator_blocks(self):
        blocks = {}
        for layer in self.discriminator.layers:
            if layer.name.startswith("d_block"):
                blocks.setdefault(int(layer.name.split("_")[1][5:]), []).append(layer.name)
        return [blocks[i] for i in sorted(blocks)]

    def generator_blocks(self):
        """FreezeG's blocks: the mapping network with the 4x4 block, then one block per resolution (its affine
        style layers, convolutions and ToRGB). The authors' ``--finetune_loc L`` trains the last L blocks and
        freezes the rest, the mapping network included: ``freeze_g = len(blocks) - L`` here."""
        blocks = {}
        for layer in self.generator.layers:
            name = layer.name
            if name.startswith("map_") or name in ("w_avg", "g_const"):
                blocks.setdefault(4, []).append(name)
            elif name.startswith("g_") and name.split("_")[1].isdigit():
                blocks.setdefault(int(name.split("_")[1]), []).append(name)
        return [blocks[res] for res in sorted(blocks)]

    def cdc_layers(self):
        """The output of every synthesis resolution but the last (``g_{res}_conv1``), as the authors compare
        intermediate synthesis features."""
        return [f"g_{res}_conv1" for res in _resolutions(self.image_size)[:-1]]

    def cdc_patch_layer(self):
        """The output of D's second-to-last residual block (8x8)."""
        return self.discriminator_blocks()[max(len(self.discriminator_blocks()) - 2, 0)][-1]

    def scale_shift_layers(self, output_layer=True):
        """The style path: each synthesis layer's affine map from w to its per-channel styles (the style-based
        counterpart of normalisation scale and shift), the rank-1 kernel modulations of a model built with
        `modulated_kernels` (their kernels stay frozen), plus the ToRGB layers when `output_layer`."""
        names = [layer.name for layer in self.generator.layers
                 if layer.name.endswith("_affine") or getattr(layer, "modulates_kernel", False)]
        return names + ([layer.name for layer in self.generator.layers if layer.name.endswith("_torgb")]
                        if output_layer else [])

    def serving_signatures(self, batch_size=None, seq_len=None):
        """The GAN signatures (``serving_default(z, truncation)`` in place of ``serving_default(z)``; noise from
        the model's seed), ``mapping(z) -> w`` and ``synthesis(w, noise maps) -> images``: the one LiteRT
        converts (`default_signature`; TFLite has no stateless RNG, so its noise is an input)."""
        signatures = super().serving_signatures(batch_size, seq_len)
        b = batch_size
        z_spec = tensor_spec([b, self.latent_dim], tf.float32, "z")
        seed = self._sample_seed(None)
        psi = tensor_spec([], tf.float32, "truncation")
        if self.num_classes:
            labels = self._condition_spec(b)
            signatures["serving_default"] = Signature(
                "serving_default", lambda z, labels, truncation: {"images":
                    self.truncated_images(z, truncation, seed, labels)}, [z_spec, labels, psi],
                ("images",))
            signatures["mapping"] = Signature("mapping", lambda z, labels: {"w": self.mapping(
                [z, labels], training=False)}, [z_spec, labels], ("w",))
        else:
            signatures["serving_default"] = Signature(
                "serving_default", lambda z, truncation: {"images":
                    self.truncated_images(z, truncation, seed)}, [z_spec, psi], ("images",))
            signatures["mapping"] = Signature("mapping", lambda z: {"w": self.mapping(z, training=False)}, [z_spec],
                                              ("w",))
        noise_specs = [tensor_spec([b, res, res, 1], tf.float32, name) for name, res in
                       noise_input_shapes(self.image_size)]
        signatures["synthesis"] = Signature(
            "synthesis", lambda w, *noise: {"images": self.synthesized(w, noise)},
            [tensor_spec([b, self.w_dim], tf.float32, "w"), *noise_specs], ("images",))
        return signatures


_TINY = dict(latent_dim=16, w_dim=16, image_size=16, filters=8, max_filters=16, mbstd_group=2)
register_model("stylegan2", StyleGAN2, "StyleGAN2: mapping network, modulated convolutions, residual D (16-128 px)",
               tiny=_TINY, consumes="images")
register_model("cstylegan2", lambda **kw: StyleGAN2(**{"num_classes": 10, **kw}),
               "Class-conditional StyleGAN2: label embedding into the mapping network, projection D", tiny=_TINY,
               consumes="labelled_images", model_class=StyleGAN2)
