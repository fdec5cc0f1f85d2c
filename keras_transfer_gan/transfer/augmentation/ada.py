"""`ADA` (Karras et al., 2020): the adaptive discriminator augmentation pipeline and its r_t controller."""

import math

import tensorflow as tf

from keras_transfer_gan.transfer.augmentation.diff_augment import uniform_per_image

GEOMETRIC = ("xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac")
COLOR = ("brightness", "contrast", "lumaflip", "hue", "saturation")
TRANSFORMS = GEOMETRIC + COLOR


def _normal_per_image(batch, seed, tail=()):
    """Per-sample standard normals, drawn for the global batch (replicas agree), from uniforms."""
    u = tf.clip_by_value(uniform_per_image(batch, seed, tail), 1e-7, 1.0 - 1e-7)
    return tf.math.ndtri(u)


def _affine(a, b, c, d, tx, ty):
    """``[B, 3, 3]`` matrices ``[[a, b, tx], [c, d, ty], [0, 0, 1]]`` from ``[B]`` tensors."""
    zero, one = tf.zeros_like(a), tf.ones_like(a)
    return tf.stack([tf.stack([a, b, tx], -1), tf.stack([c, d, ty], -1), tf.stack([zero, zero, one], -1)], 1)


def _rotation(theta):
    cos, sin = tf.cos(theta), tf.sin(theta)
    return _affine(cos, -sin, sin, cos, tf.zeros_like(theta), tf.zeros_like(theta))


def _scaling(sx, sy):
    zero = tf.zeros_like(sx)
    return _affine(sx, zero, zero, sy, zero, zero)


def _translation(tx, ty):
    one, zero = tf.ones_like(tx), tf.zeros_like(tx)
    return _affine(one, zero, zero, one, tx, ty)


class ADA(tf.Module):
    """Adaptive discriminator augmentation: the published pipeline with an adaptive probability ``p``.

    Every image on D's input (real and fake alike) goes through each transform
    below with probability ``p``, independently per image and per transform,
    all differentiable with respect to the images so gradients reach G:

    - geometric (one combined affine resampling, bilinear, reflected borders), in
      the authors' order: ``xflip`` (mirror), ``rotate90`` (a multiple of 90
      degrees), ``xint`` (integer translation up to `xint_max` of the size),
      ``scale`` (isotropic, log2-normal with std `scale_std`), ``rotate`` (any
      angle, *twice*: before and after the anisotropic scaling, each with
      probability ``1 - sqrt(1 - p)`` so that one or both happen with probability
      p), ``aniso`` (anisotropic, `aniso_std`), ``xfrac`` (fractional
      translation, std `xfrac_std` of the size);
    - colour (one affine map of RGB; on gray images the luma-only ones), in the
      authors' order: ``brightness`` (add N(0, `brightness_std`)), then
      ``contrast`` (log2-normal, `contrast_std`), ``lumaflip`` (invert the luma
      axis), ``hue`` (rotation about the luma axis, any angle), ``saturation``
      (log2-normal, `saturation_std`).

    The controller is the paper's: the signs of D's real logits are summed over
    `interval` D steps (4), then ``r_t = E[sign(D(real))]`` over them (and over
    replicas) measures D's overfitting and ``p`` moves by
    ``images / (speed_kimg * 1000)`` (the images of those steps) towards more
    augmentation when ``r_t`` exceeds `target`, towards less below, clipped to
    [0, `max_p`]: at the default 500 kimg, p takes 500,000 images to go from 0 to
    1. ``p`` and the partial sums are variables of this module, so a
    `tf.train.Checkpoint` holding it (the `Trainer`'s does) restores them on resume.

    Create it inside `strategy.scope()` when training distributed; attach with
    ``model.compile(..., augment=ADA())``.

    Args:
        target: float. The r_t to hold. Defaults to 0.6.
        speed_kimg: float. Thousands of images for p to go from 0 to 1. Defaults to 500 (the paper's).
        interval: int. D steps between adjustments. Defaults to 4 (the paper's).
        transforms: names from `TRANSFORMS` to use. Defaults to all.
        initial_p, max_p: float. Defaults to 0 and 0.8.
        xint_max, scale_std, rotate_max, aniso_std, xfrac_std, brightness_std, contrast_std, hue_max,
        saturation_std: the transforms' strengths (the paper's values by default).
    """

    def __init__(self, target=0.6, speed_kimg=500.0, transforms=TRANSFORMS, initial_p=0.0, max_p=0.8, xint_max=0.125,
                 scale_std=0.2, rotate_max=1.0, aniso_std=0.2, xfrac_std=0.125, brightness_std=0.2,
                 contrast_std=0.5, hue_max=1.0, saturation_std=1.0, interval=4):
        super().__init__(name="ada")
        if not 0.0 <= initial_p <= max_p <= 1.0:
            raise ValueError(f"ADA: need 0 <= initial_p <= max_p <= 1, got {initial_p}, {max_p}")
        if speed_kimg <= 0:
            raise ValueError(f"ADA: speed_kimg must be positive, got {speed_kimg}")
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError(f"ADA: interval must be a positive integer, got {interval!r}")
        unknown = [t for t in transforms if t not in TRANSFORMS]
        if unknown or not transforms:
            raise ValueError(f"ADA: unknown transform {unknown[0] if unknown else None!r} "
                             f"(choose from {', '.join(TRANSFORMS)})")
        self.target = float(target)
        self.speed_kimg = float(speed_kimg)
        self.max_p = float(max_p)
        self.transforms = tuple(transforms)
        self.strengths = dict(xint_max=xint_max, scale_std=scale_std, rotate_max=rotate_max, aniso_std=aniso_std,
                              xfrac_std=xfrac_std, brightness_std=brightness_std, contrast_std=contrast_std,
                              hue_max=hue_max, saturation_std=saturation_std)
        self.interval = interval
        self.p = tf.Variable(float(initial_p), trainable=False, name="ada_p",
                             aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        # The signs summed since the last adjustment, their count, and the D steps seen.
        self.sign_sum, self.sign_count, self.calls = (
            tf.Variable(0.0, trainable=False, name=name, aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
            for name in ("ada_sign_sum", "ada_sign_count", "ada_calls"))

    def __call__(self, images, seed):
        return self.augment(images, seed, tf.cast(self.p, tf.float32))

    # ---------------------------------------------------------- the pipeline
    def augment(self, images, seed, p):
        """`images` through every transform, each applied with probability `p` per image (stateless `seed`)."""
        images = tf.convert_to_tensor(images)
        batch = tf.shape(images)[0]
        draws, applied = self.gates(batch, seed, p)
        x = tf.cast(images, tf.float32)
        if any(name in GEOMETRIC for name in self.transforms):
            x = self._geometric(x, batch, draws, applied)
        if any(name in COLOR for name in self.transforms):
            x = self._color(x, batch, draws, applied)
        touched = tf.reduce_any(tf.stack(list(applied.values()), 0), 0)  # images no transform chose pass as they are
        return tf.cast(tf.where(touched[:, None, None, None], x, tf.cast(images, tf.float32)), images.dtype)

    def gates(self, batch, seed, p):
        """``(draws, applied)``: the stateless seeds of each transform's gate and parameters, and per transform
        whether it applies to each image: with probability `p`, the two rotations (``rotate`` before the
        anisotropic scaling, ``rotate_post`` after) each with ``1 - sqrt(1 - p)``."""
        names = TRANSFORMS + ("rotate_post",)
        seeds = iter(tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2 * len(names))))
        draws = {name: (next(seeds), next(seeds)) for name in names}  # (gate, parameters) per transform
        p_rot = 1.0 - tf.sqrt(tf.clip_by_value(1.0 - p, 0.0, 1.0))  # P(pre or post rotation) = p
        applied = {name: uniform_per_image(batch, draws[name][0]) < (p_rot if name == "rotate" else p)
                   for name in self.transforms}
        if "rotate" in self.transforms:
            applied["rotate_post"] = uniform_per_image(batch, draws["rotate_post"][0]) < p_rot
        return draws, applied

    def _geometric(self, x, batch, draws, applied):
        s = self.strengths
        height, width = x.shape[1], x.shape[2]
        ones = tf.ones([batch])
        inverse = tf.eye(3, batch_shape=[batch])  # maps output pixel coordinates to input coordinates

        def chain(name, matrix):
            nonlocal inverse
            if name in applied:
                gate = tf.reshape(tf.cast(applied[name], tf.float32), [-1, 1, 1])
                inverse = tf.matmul(inverse, gate * matrix + (1.0 - gate) * tf.eye(3, batch_shape=[batch]))

        flip = tf.floor(uniform_per_image(batch, draws["xflip"][1]) * 2.0)
        chain("xflip", _scaling(1.0 - 2.0 * flip, ones))
        quarter = tf.floor(uniform_per_image(batch, draws["rotate90"][1]) * 4.0)
        chain("rotate90", _rotation(-math.pi / 2.0 * quarter))
        shift = (uniform_per_image(batch, draws["xint"][1], (2,)) * 2.0 - 1.0) * s["xint_max"]
        chain("xint", _translation(-tf.round(shift[:, 0] * width), -tf.round(shift[:, 1] * height)))
        scale = tf.pow(2.0, _normal_per_image(batch, draws["scale"][1]) * s["scale_std"])
        chain("scale", _scaling(1.0 / scale, 1.0 / scale))
        theta = (uniform_per_image(batch, draws["rotate"][1]) * 2.0 - 1.0) * math.pi * s["rotate_max"]
        chain("rotate", _rotation(-theta))  # before the anisotropic scaling
        aniso = tf.pow(2.0, _normal_per_image(batch, draws["aniso"][1]) * s["aniso_std"])
        chain("aniso", _scaling(1.0 / aniso, aniso))
        theta = (uniform_per_image(batch, draws["rotate_post"][1]) * 2.0 - 1.0) * math.pi * s["rotate_max"]
        chain("rotate_post", _rotation(-theta))  # and after it
        frac = _normal_per_image(batch, draws["xfrac"][1], (2,)) * s["xfrac_std"]
        chain("xfrac", _translation(-frac[:, 0] * width, -frac[:, 1] * height))
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0  # about the image's centre
        matrix = _translation(cx * ones, cy * ones) @ inverse @ _translation(-cx * ones, -cy * ones)
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=x, transforms=tf.reshape(matrix, [-1, 9])[:, :8], output_shape=tf.constant([height, width]), fill_value=0.0,
            interpolation="BILINEAR", fill_mode="REFLECT")

    def _color(self, x, batch, draws, applied):
        s = self.strengths

        def gated(name, value, identity):
            if name not in self.transforms:
                return tf.fill([batch], identity)
            return tf.where(applied[name], value, identity)

        brightness = gated("brightness", _normal_per_image(batch, draws["brightness"][1]) * s["brightness_std"], 0.0)
        contrast = gated("contrast", tf.pow(2.0, _normal_per_image(batch, draws["contrast"][1]) * s["contrast_std"]),
                         1.0)
        flip = gated("lumaflip", tf.floor(uniform_per_image(batch, draws["lumaflip"][1]) * 2.0), 0.0)
        x = x + brightness[:, None, None, None]  # brightness first, as the authors compose the colour matrix
        if x.shape[-1] == 1:  # gray: the image is its luma; hue and saturation have nothing to act on
            scale = contrast * (1.0 - 2.0 * flip)
            return x * scale[:, None, None, None]
        theta = gated("hue", (uniform_per_image(batch, draws["hue"][1]) * 2.0 - 1.0) * math.pi * s["hue_max"], 0.0)
        saturation = gated("saturation", tf.pow(2.0, _normal_per_image(batch, draws["saturation"][1])
                                                * s["saturation_std"]), 1.0)
        k = 1.0 / math.sqrt(3.0)
        vv = tf.fill([3, 3], k * k)  # v v^T for the luma axis v = (1, 1, 1) / sqrt(3)
        cross = tf.constant([[0.0, -k, k], [k, 0.0, -k], [-k, k, 0.0]])  # the cross product with v
        cos, sin = tf.cos(theta)[:, None, None], tf.sin(theta)[:, None, None]
        hue = cos * tf.eye(3) + sin * cross + (1.0 - cos) * vv  # Rodrigues: rotation about v
        luma_flip = tf.eye(3) - 2.0 * flip[:, None, None] * vv
        satur = vv + (tf.eye(3) - vv) * saturation[:, None, None]
        matrix = contrast[:, None, None] * (satur @ hue @ luma_flip)
        return tf.einsum("bij,bhwj->bhwi", matrix, x)

    # ------------------------------------------------------------ the controller
    def update(self, real_logits):
        """Add this D step's signs; every `interval` steps, move p from ``r_t`` over them. Returns the r_t of
        the signs gathered so far (over replicas)."""
        signs = tf.sign(tf.cast(tf.reshape(real_logits, [-1]), tf.float32))
        ctx = tf.distribute.get_replica_context()
        total, count = tf.reduce_sum(signs), tf.cast(tf.size(signs), tf.float32)
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            total, count = ctx.all_reduce(tf.distribute.ReduceOp.SUM, [total, count])
        total, count = self.sign_sum + total, self.sign_count + count
        calls = self.calls + 1.0
        r_t = total / count
        adjust = tf.cast(tf.equal(tf.math.floormod(calls, float(self.interval)), 0.0), tf.float32)
        step = adjust * tf.sign(r_t - self.target) * count / (self.speed_kimg * 1000.0)
        self.p.assign(tf.clip_by_value(self.p + step, 0.0, self.max_p))
        self.sign_sum.assign(total * (1.0 - adjust))
        self.sign_count.assign(count * (1.0 - adjust))
        self.calls.assign(calls)
        return r_t
