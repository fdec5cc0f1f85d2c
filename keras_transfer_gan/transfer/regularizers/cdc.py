"""`CDC` (Ojha et al., 2021): the source's pairwise sample similarities kept, realism relaxed outside anchor regions."""

import keras
import tensorflow as tf

from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.transfer.regularizers.anchor_regions import AnchorRegions
from keras_transfer_gan.utils.checks import check_positive_int


def generator_activation_layers(source):
    """The layers CDC compares by default: those the source architecture declares (`cdc_layers()`; a model
    without CDC is a one-line error naming it). A plain Keras generator declares nothing: pass ``layers=``."""
    if not isinstance(source, Architecture):
        raise ValueError(f"CDC: {getattr(source, 'name', type(source).__name__)!r} is not one of the package's "
                         "models, so it declares no CDC layers; pass layers=")
    names = source.cdc_layers()
    if not names:
        raise ValueError(f"CDC: {type(source).__name__} declares no CDC layers; pass layers=")
    return names


def _activations_model(generator, layers, name):
    try:
        outputs = [generator.get_layer(n).output for n in layers]
    except ValueError as exc:
        raise ValueError(f"CDC: {exc}".splitlines()[0]) from None
    return keras.Model(generator.inputs, outputs, name=name)


def _log_similarity_distribution(activations):
    """Row-wise log-softmax of pairwise cosine similarities, the diagonal (self-similarity) left out."""
    flat = tf.reshape(tf.cast(activations, tf.float32), [tf.shape(activations)[0], -1])
    unit = tf.math.l2_normalize(flat, axis=1)
    sim = tf.matmul(unit, unit, transpose_b=True)
    n = tf.shape(sim)[0]
    off_diagonal = tf.reshape(tf.boolean_mask(sim, ~tf.eye(n, dtype=tf.bool)), [n, n - 1])
    return tf.nn.log_softmax(off_diagonal, axis=1)


def distance_consistency(source_activations, target_activations, rows_layer=None):
    """The authors' distance-consistency loss: ``KL(p_source || p_target)`` of the row softmaxes of pairwise
    similarities, averaged over every one of the ``n (n - 1)`` entries (PyTorch's ``KLDivLoss()`` default
    reduction in the authors' ``train.py``), row ``i`` taken at layer ``rows_layer[i]``.

    Args:
        source_activations, target_activations: a tensor or a list of tensors (one per layer), ``[n, ...]``.
        rows_layer: int ``[n]``: the layer each anchor row is compared at (the authors draw one per row and
            step); None: layer 0 for every row.
    """
    if not isinstance(source_activations, (list, tuple)):  # a single layer
        source_activations, target_activations = [source_activations], [target_activations]
    log_p = tf.stack([_log_similarity_distribution(a) for a in source_activations])  # [layers, n, n - 1]
    log_q = tf.stack([_log_similarity_distribution(a) for a in target_activations])
    n = tf.shape(log_p)[1]
    rows_layer = tf.zeros([n], tf.int32) if rows_layer is None else tf.cast(rows_layer, tf.int32)
    index = tf.stack([rows_layer, tf.range(n)], axis=1)
    log_p, log_q = tf.gather_nd(log_p, index), tf.gather_nd(log_q, index)  # [n, n - 1]: each row at its layer
    return tf.reduce_mean(tf.exp(log_p) * (log_p - log_q))


def _moving_statistics(model):
    """The batch-norm moving averages of `model` (what a forward pass in training mode updates)."""
    return [v for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)
            for v in (layer.moving_mean, layer.moving_variance)]


class CDC:
    """Cross-domain correspondence (Ojha et al., 2021): distance consistency on G's loss and anchor regions.

    **Distance consistency.** A copy of the source generator and the adapted
    generator are run on the same `batch_size` noise vectors. For each sample
    (an anchor row), one of `layers` is drawn at random each step, as in the
    authors' ``train.py``; at that layer the pairwise cosine similarities of
    its activations to the other samples' are turned into a softmax
    distribution; the loss is the KL divergence from the source's
    distributions to the adapted generator's, averaged over all ``n (n - 1)``
    entries (the authors' reduction) and multiplied by `weight` (the authors'
    1,000 by default, with 4 samples). It keeps the *relative* distances
    between samples, so the few-shot generator keeps the source's diversity
    instead of collapsing onto the training images. Both generators run as G's
    adversarial path does, in training mode (batch norm on the batch's
    statistics; a layer frozen in the target is frozen in the copy), and the
    pass leaves every moving average as it was.

    **Anchor regions** (`anchors` > 0, `AnchorRegions`): every
    `anchor_every`-th step draws G's noise near `anchors` fixed latents and
    uses the image-level D; the other steps draw the usual noise and judge
    realism per patch with a new head on a D layer the architecture declares
    (`cdc_patch_layer()`).

    Departures from the paper: see `AnchorRegions` (the patch level's depth);
    the source copy's batch norm uses its own batch statistics on the CDC batch
    (the paper's StyleGAN2 has no batch norm). The noise, the anchors and the
    layer draws are keyed by the model's seed and step, so a run is
    reproducible and resumable.

    Attach with ``compile_for_training(model, regularizers=[CDC(source)])``;
    the model binds it at `compile`. The source must have the adapted model's
    generator architecture (same layer names).

    Args:
        source: the source GAN (or its generator as a plain Keras model, with `layers` and ``anchors=0``).
        weight: float. Defaults to 1000 (the authors' ``--kl_wt``).
        batch_size: int >= 3. Noise vectors per step. Defaults to 4 (the authors' ``--feat_const_batch``).
        layers: generator layer names, or None for those the source declares
            (`cdc_layers()`, e.g. every hidden block's output of a DCGAN).
        anchors: int >= 0. Anchor latents (the authors': one per training image); 0 leaves the adversarial
            loss as it is (distance consistency alone). Defaults to 10 (the paper's 10-shot).
        anchor_every, anchor_std: the anchor steps' period and the noise around an anchor (the authors'
            ``--subspace_freq 4``, ``--subspace_std 0.1``).

    Example:
    >>> target, report = derive_model(source)
    >>> compile_for_training(target, regularizers=[CDC(source, weight=1000, anchors=10)])
    """

    def __init__(self, source, weight=1000.0, batch_size=4, layers=None, anchors=10, anchor_every=4, anchor_std=0.1):
        if weight < 0:
            raise ValueError(f"CDC: weight must be >= 0, got {weight!r}")
        check_positive_int(batch_size, "batch_size", "CDC", minimum=3)
        check_positive_int(anchors, "anchors", "CDC", minimum=0)
        generator = source.generator if isinstance(source, Architecture) and source.family == "gan" else source
        self.layers = list(layers) if layers is not None else generator_activation_layers(source)
        copy = keras.models.clone_model(generator)
        copy.set_weights(generator.get_weights())
        self.source_copy = copy  # never in an optimizer: only its layers' trainable flags (batch norm's mode) matter
        self.source_activations = _activations_model(copy, self.layers, "cdc_source")
        self.weight = float(weight)
        self.batch_size = batch_size
        self.anchor_regions = AnchorRegions(anchors, anchor_every, anchor_std) if anchors else None
        self.model = None
        self.target_activations = None

    def bind(self, model):
        """Attach to the adapted GAN (done by `GAN.compile`): its generator's activations at `layers`, the
        copy's batch norm in the target's modes, and the anchor regions as the model's `adversarial_schedule`."""
        if not isinstance(model, Architecture) or model.family != "gan":
            raise ValueError(f"CDC: the adapted model must be a GAN, got {type(model).__name__}")
        self.model = model
        self.target_activations = _activations_model(model.generator, self.layers, "cdc_target")
        target_layers = {layer.name: layer for layer in model.generator._flatten_layers()}
        for layer in self.source_copy._flatten_layers(include_self=False):
            if layer.name in target_layers:
                layer.trainable = target_layers[layer.name].trainable
        self._statistics = _moving_statistics(model.generator) + _moving_statistics(self.source_copy)
        if self.anchor_regions is not None:
            model.adversarial_schedule = self.anchor_regions.bind(model)
        return self

    def _seed(self, stream):
        model = self.model
        return tf.stack([tf.constant(model.seed + 3, tf.int64), tf.cast(model.step, tf.int64) * 64 + stream])

    def _inputs(self):
        model = self.model
        z = tf.random.stateless_normal([self.batch_size, model.latent_dim], seed=self._seed(48))
        labels = tf.range(self.batch_size) % model.num_classes if getattr(model, "num_classes", 0) else None
        return model.with_extra_inputs(model.generator_inputs(z, labels, None), self._seed(50))

    def rows_layer(self):
        """This step's layer index for each anchor row, uniform over `layers` (keyed by seed and step)."""
        return tf.random.stateless_uniform([self.batch_size], self._seed(49), 0, len(self.layers), dtype=tf.int32)

    def loss(self, inputs=None, rows_layer=None):
        """The weighted distance-consistency loss on `inputs` (default: this step's noise), each row at its
        layer of `rows_layer` (default: this step's draw)."""
        if self.model is None:
            raise ValueError("CDC: not bound to a model; pass it to compile (regularizers=[...])")
        inputs = self._inputs() if inputs is None else inputs
        saved = [tf.identity(v) for v in self._statistics]
        source = self.source_activations(inputs, training=True)  # batch statistics, as G's adversarial path
        target = self.target_activations(inputs, training=True)
        if not isinstance(source, (list, tuple)):
            source, target = [source], [target]
        rows_layer = self.rows_layer() if rows_layer is None else rows_layer
        loss = self.weight * distance_consistency(source, target, rows_layer)
        with tf.control_dependencies([loss]):  # the CDC batch leaves the moving averages as they were
            for variable, value in zip(self._statistics, saved):
                variable.assign(value)
        return tf.identity(loss)

    def __call__(self, submodel):
        """The loss when `submodel` is the bound model's generator, else 0 (the GAN's regulariser contract)."""
        if self.model is None or submodel is not self.model.generator:
            return tf.constant(0.0)
        return self.loss()
