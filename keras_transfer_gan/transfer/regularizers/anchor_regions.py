"""`AnchorRegions` (Ojha et al., 2021): CDC's relaxed realism, image-level D near a few anchors, patch-level D elsewhere."""

import keras
import tensorflow as tf

from keras_transfer_gan.utils.checks import check_positive_int
from keras_transfer_gan.utils.replicas import replica_slice


class AnchorRegions:
    """The adversarial half of CDC: where the few training images may be matched whole, and where only in patches.

    A few anchor latents are drawn once (one per training image, as the
    authors' ``init_z``). Every `every`-th step (step % every == 0) both D's
    and G's steps draw their noise near the anchors (an anchor at random per
    sample, plus N(0, `std`^2) noise) and use the usual image-level D; on the
    other steps the noise is the usual prior and D's realism is judged per
    patch: a new 3x3 convolution to one channel on the output of the layer the
    architecture declares (`cdc_patch_layer()`), each patch a logit, the
    adversarial loss averaged over patches. So only the anchor regions are
    pushed to look like whole training images; the rest of the latent space
    only has to have their local texture, and keeps the source's variety.

    The patch head trains with D's optimizer (the authors give it its own Adam
    at D's settings: the same update), is a training setting (not saved with
    the model) and is held in checkpoints (`GAN.training_state`).

    Departures from the authors' ``train.py`` (StyleGAN2 at 256 px): the patch
    level is the output of the second-to-last D block (8x8 at 16 to 64 px;
    theirs one of four 512-channel maps at 32x32 or 16x16, index 0 with their
    default ``--highp 1``); D's upper layers still run on patch steps (their
    outputs are unused, so they get zero gradients, as after the authors'
    ``zero_grad``); ADA's statistic reads the image-level logits on every step;
    a conditional D's patches see the image only.

    Args:
        anchors: int >= 1. Anchor latents (the authors': the number of training images).
        every: int >= 1. Anchor steps come every `every` steps. Defaults to 4 (the authors' ``--subspace_freq``).
        std: float > 0. Spread of the noise around an anchor. Defaults to 0.1 (``--subspace_std``).
    """

    def __init__(self, anchors=10, every=4, std=0.1):
        check_positive_int(anchors, "anchors", "CDC")
        check_positive_int(every, "anchor_every", "CDC")
        if not std > 0:
            raise ValueError(f"CDC: anchor_std must be > 0, got {std!r}")
        self.n_anchors, self.every, self.std = int(anchors), int(every), float(std)
        self.model = None

    def bind(self, model):
        """Attach to the adapted GAN: its anchors (from its seed), the patch features of its D and a new head."""
        layer = model.cdc_patch_layer()
        d = model.discriminator
        self.model = model
        self.patch_features = keras.Model(d.inputs[0], d.get_layer(layer).output, name="cdc_patch_features")
        self.head = keras.layers.Conv2D(1, 3, padding="same", name="cdc_patch_head",
                                        kernel_initializer=keras.initializers.RandomNormal(stddev=0.02, seed=model.seed + 7))
        self.head.build(self.patch_features.output.shape)
        self.anchors = tf.random.stateless_normal([self.n_anchors, model.latent_dim],
                                                  seed=tf.constant([model.seed + 5, 0], tf.int64))
        return self

    def anchor_step(self):
        """True on the steps that sample the anchor regions and use the image-level D (step % every == 0)."""
        return tf.equal(tf.math.floormod(tf.cast(self.model.step, tf.int64), self.every), 0)

    def near_anchors(self, batch_size, stream):
        """This replica's slice of this step's noise near the anchors (keyed by seed, step and stream)."""
        model = self.model
        seed = tf.stack([tf.constant(model.seed + 6, tf.int64), tf.cast(model.step, tf.int64) * 64 + stream])

        def draw(n):
            which = tf.random.stateless_uniform([n], seed, 0, self.n_anchors, dtype=tf.int32)
            jitter = tf.random.stateless_normal([n, model.latent_dim], seed + tf.constant([0, 1], tf.int64))
            return tf.gather(self.anchors, which) + self.std * jitter

        return replica_slice(batch_size, draw)

    def noise(self, z, stream):
        """`z` (the prior's noise) on patch steps, noise near the anchors on anchor steps."""
        return tf.where(self.anchor_step(), self.near_anchors(tf.shape(z)[0], stream), z)

    def patch_logits(self, images):
        """``[batch, h, w, 1]``: one logit per patch of `images` (D's lower blocks in training mode, the head)."""
        return tf.cast(self.head(self.patch_features(images, training=True)), tf.float32)

    @staticmethod
    def _per_example(loss_fn, *logits):
        """`loss_fn` (a per-example adversarial loss) on every patch as an example, averaged per image."""
        batch = tf.shape(logits[0])[0]
        flat = [tf.reshape(x, [-1, 1]) for x in logits]
        return tf.reduce_mean(tf.reshape(loss_fn(*flat), [batch, -1]), axis=1)

    def d_loss(self, image_level, real, fake):
        """D's per-example loss: `image_level` on anchor steps, patch-level on `real` and `fake` otherwise."""
        patch = self._per_example(self.model.d_loss_fn, self.patch_logits(real), self.patch_logits(fake))
        return tf.where(self.anchor_step(), image_level, patch)

    def g_loss(self, image_level, fake):
        """G's per-example adversarial loss: `image_level` on anchor steps, patch-level on `fake` otherwise."""
        patch = self._per_example(self.model.g_loss_fn, self.patch_logits(fake))
        return tf.where(self.anchor_step(), image_level, patch)

    def parts(self):
        """What D's optimizer also trains: the patch head."""
        return [self.head]

    def state(self):
        """What a checkpoint holds besides the model: the patch head's weights."""
        return {"cdc_patch_head": self.head}
