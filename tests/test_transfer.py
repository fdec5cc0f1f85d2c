import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model
from keras_transfer_gan.data import load_dataset
from keras_transfer_gan.training import compile_for_training
from keras_transfer_gan.transfer import (
    freeze,
    freeze_discriminator_blocks,
    layer_paths,
    named_weights,
    transfer_weights,
    unfreeze,
)


def _data(n=32, channels=1):
    return load_dataset("digits", image_size=16, batch_size=16, limit=n, channels=channels,
                        shuffle=False, drop_remainder=True)


def test_transferred_weights_equal_the_source_before_training():
    source = create_model("dcgan", tiny=True)
    target = create_model("dcgan", tiny=True)
    report = transfer_weights(source, target)
    assert not report.problems and len(report.copied) == len(named_weights(target))
    for path, variable in named_weights(target).items():
        np.testing.assert_array_equal(variable.numpy(), named_weights(source)[path].numpy(), err_msg=path)
    z = np.random.default_rng(0).standard_normal((2, 16)).astype("float32")
    np.testing.assert_array_equal(source.generate(z), target.generate(z))


def test_report_lists_every_mismatch_and_strict_raises():
    source = create_model("dcgan", tiny=True)  # 1 channel
    target = create_model("dcgan", tiny=True, channels=3)
    report = transfer_weights(source, target, dont_load=["d_logits"])
    assert "discriminator/d_block1_conv/kernel" in report.by_status("shape mismatch")
    assert "generator/g_out_deconv/kernel" in report.by_status("shape mismatch")
    assert report.by_status("not loaded") == ["discriminator/d_logits/kernel", "discriminator/d_logits/bias"]
    assert "generator/g_project/kernel" in report.copied
    text = str(report)
    assert "shape mismatch" in text and "4x4x1x8" in text and "4x4x3x8" in text
    assert sum(report.counts().values()) == len(report.rows)
    with pytest.raises(ValueError, match="strict=True.*did not transfer"):
        transfer_weights(source, target, strict=True)


def test_missing_and_unused_weights_are_reported():
    source = create_model("dcgan", tiny=True, spectral_norm=True)
    target = create_model("dcgan", tiny=True)
    report = transfer_weights(source, target)
    assert "discriminator/d_block2_bn/gamma" in report.by_status("missing in source")
    assert any(p.startswith("discriminator/d_block1_sn") for p in report.by_status("unused in source"))


def test_freeze_by_pattern_first_n_and_fraction_with_summary():
    model = create_model("dcgan", tiny=True)
    summary = freeze(model, pattern="discriminator/d_block1_*")
    assert summary.changed == ("discriminator/d_block1_conv",)
    assert not model.discriminator.get_layer("d_block1_conv").trainable
    assert summary.parts["discriminator"]["frozen"] == 4 * 4 * 1 * 8 + 8
    assert summary.parts["generator"]["frozen"] == 0
    assert "discriminator" in str(summary)
    unfreeze(model, pattern="d_block1")
    summary = freeze(model, first_n=2, submodel="generator")
    assert summary.changed == ("generator/g_project", "generator/g_project_bn")
    summary = freeze(model, fraction=0.5, submodel="discriminator")
    assert len(summary.changed) == round(0.5 * len(layer_paths(model, "discriminator")))
    with pytest.raises(ValueError, match="exactly one of"):
        freeze(model, pattern="x", first_n=1)
    with pytest.raises(ValueError, match="matches no layer"):
        freeze(model, pattern="nothing_like_this")
    with pytest.raises(ValueError, match="no sub-model 'critic'"):
        freeze(model, first_n=1, submodel="critic")


def test_frozen_weights_stay_and_trainable_ones_change_after_steps():
    keras.utils.set_random_seed(0)
    model = create_model("dcgan", tiny=True)
    freeze_discriminator_blocks(model, 1)
    compile_for_training(model)
    frozen = model.discriminator.get_layer("d_block1_conv").get_weights()
    trained = model.discriminator.get_layer("d_block2_conv").get_weights()
    model.fit(_data(), epochs=1, verbose=0)
    for a, b in zip(frozen, model.discriminator.get_layer("d_block1_conv").get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(trained[0], model.discriminator.get_layer("d_block2_conv").get_weights()[0])


@pytest.mark.parametrize("order", ["before", "after"])
def test_freezing_before_or_after_compile_behaves_the_same(order):
    """Keras 3 users trip here: the optimizer must not care when the freeze happened."""
    keras.utils.set_random_seed(1)
    results = {}
    base = create_model("dcgan", tiny=True)
    weights = base.get_weights()
    for when in ("before", "after"):
        model = create_model("dcgan", tiny=True)
        model.set_weights(weights)
        if when == "before":
            freeze(model, pattern="generator/g_project")
            compile_for_training(model)
        else:
            compile_for_training(model)
            freeze(model, pattern="generator/g_project")
        model.fit(_data(), epochs=1, verbose=0, shuffle=False)
        results[when] = model
    np.testing.assert_array_equal(
        results["before"].generator.get_layer("g_project").get_weights()[0], weights[0]
    )
    for a, b in zip(results["before"].weights, results["after"].weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    # Unfreezing after compile works too (the optimizer knows every weight).
    model = results[order]
    unfreeze(model, pattern="generator/g_project")
    model.fit(_data(), epochs=1, verbose=0)
    assert not np.allclose(model.generator.get_layer("g_project").get_weights()[0], weights[0])


def test_frozen_batch_norm_runs_in_inference_mode():
    model = create_model("dcgan", tiny=True)
    freeze(model, pattern="generator/g_project_bn")
    layer = model.generator.get_layer("g_project_bn")
    stats = [w.numpy().copy() for w in layer.non_trainable_weights]
    z = tf.random.normal([8, 16])
    model.generator(z, training=True)
    for before, w in zip(stats, layer.non_trainable_weights):
        np.testing.assert_array_equal(before, w.numpy())  # moving statistics untouched
    x = tf.random.normal([8, 256], mean=3.0)  # far from the moving statistics (0, 1)
    np.testing.assert_allclose(layer(x, training=True), layer(x, training=False), atol=1e-6)


def test_freeze_d_validates_k():
    model = create_model("dcgan", tiny=True)
    with pytest.raises(ValueError, match="has 2 blocks, cannot freeze 3"):
        freeze_discriminator_blocks(model, 3)
    assert freeze_discriminator_blocks(model, 2).changed == (
        "discriminator/d_block1_conv", "discriminator/d_block2_conv", "discriminator/d_block2_bn"
    )


def test_trainer_notices_a_freeze_between_fits():
    from keras_transfer_gan.training import Trainer

    model = create_model("dcgan", tiny=True)
    compile_for_training(model)
    trainer = Trainer(model, verbose=0)
    trainer.fit(_data(), epochs=1)
    freeze(model, pattern="generator/g_project")
    before = model.generator.get_layer("g_project").get_weights()[0]
    trainer.fit(_data(), epochs=1)
    np.testing.assert_array_equal(before, model.generator.get_layer("g_project").get_weights()[0])


# ------------------------------------------------------------ DiffAugment
def test_diff_augment_is_seeded_and_changes_images():
    from keras_transfer_gan.transfer import DiffAugment

    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)), tf.float32)
    augment = DiffAugment()
    a, b = augment(x, tf.constant([1, 2])), augment(x, tf.constant([1, 2]))
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and not np.allclose(a, augment(x, tf.constant([1, 3])))
    cut = DiffAugment("cutout")(x, tf.constant([0, 0])).numpy()
    for mask in (cut == 0).all(axis=-1):  # one 8x8 square per image, clipped at the border
        rows, cols = np.nonzero(mask)
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert mask.sum() == height * width and 4 <= height <= 8 and 4 <= width <= 8
    moved = DiffAugment("translation")(x, tf.constant([0, 5])).numpy()
    assert not np.allclose(moved, x.numpy())
    with pytest.raises(ValueError, match="unknown policy"):
        DiffAugment("rotate")


def test_diff_augment_keeps_gradients_flowing_to_the_generator():
    from keras_transfer_gan.transfer import DiffAugment

    model = create_model("dcgan", tiny=True)
    augment = DiffAugment()
    z = tf.random.normal([8, 16])
    with tf.GradientTape() as tape:
        logits = model.discriminator(augment(model.generator(z, training=True), tf.constant([3, 4])))
        loss = tf.reduce_mean(logits)
    grads = tape.gradient(loss, model.generator.trainable_variables)
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


# ------------------------------------------------------------------ L2-SP
def test_l2_sp_gradient_is_alpha_times_distance_to_source():
    from keras_transfer_gan.transfer import L2SP

    source = create_model("dcgan", tiny=True)
    target = create_model("dcgan", tiny=True, channels=3)
    transfer_weights(source, target)
    for w in target.generator.trainable_variables:
        w.assign(w + tf.random.normal(w.shape, stddev=0.1))
    penalty = L2SP(source, alpha=0.3, beta=0.05)
    transferred, new = penalty.split(target.generator)
    assert [v.path for v in new] == ["g_out_deconv/kernel", "g_out_deconv/bias"]  # 1 -> 3 channels: new
    with tf.GradientTape() as tape:
        value = penalty(target.generator)
    grads = dict(zip([id(v) for v in target.generator.trainable_variables],
                     tape.gradient(value, target.generator.trainable_variables)))
    for variable, w0 in transferred:
        np.testing.assert_allclose(grads[id(variable)].numpy(), 0.3 * (variable.numpy() - w0), rtol=1e-5, atol=1e-7)
    for variable in new:
        np.testing.assert_allclose(grads[id(variable)].numpy(), 0.05 * variable.numpy(), rtol=1e-5, atol=1e-7)


def test_regularisers_are_logged_apart_from_the_adversarial_losses():
    """With a regulariser compiled in, g_penalty and d_penalty log its size (g_loss stays the adversarial
    term); without one, neither is logged."""
    from keras_transfer_gan.transfer import L2SP

    source = create_model("dcgan", tiny=True)
    target = create_model("dcgan", tiny=True, seed=1)  # other weights: the pull to the source is not zero
    data = tf.data.Dataset.from_tensor_slices(np.zeros((16, 16, 16, 1), "float32")).batch(8)
    compile_for_training(target, weight_penalty=L2SP(source, alpha=0.5, beta=0.0))
    logs = target.fit(data, epochs=1, verbose=0).history
    expected = float(L2SP(source, alpha=0.5, beta=0.0)(target.generator))
    assert logs["g_penalty"][0] > 0 and logs["d_penalty"][0] > 0
    assert logs["g_penalty"][0] == pytest.approx(expected, rel=0.2)  # two steps ago to now: close
    compile_for_training(target)
    assert "g_penalty" not in target.fit(data, epochs=1, verbose=0).history


def test_training_with_diff_augment_and_l2_sp():
    from keras_transfer_gan.transfer import L2SP, DiffAugment

    keras.utils.set_random_seed(0)
    source = create_model("dcgan", tiny=True)
    target = create_model("dcgan", tiny=True)
    transfer_weights(source, target)
    freeze_discriminator_blocks(target, 1)
    compile_for_training(target, augment=DiffAugment(), weight_penalty=L2SP(source, alpha=1.0))
    history = target.fit(_data(), epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"][0]) and np.isfinite(history["g_loss"][0])
    g_kernel = target.generator.get_layer("g_project").get_weights()[0]
    assert not np.allclose(g_kernel, source.generator.get_layer("g_project").get_weights()[0])


# ---------------------------------------------------------- head rebuilding
def test_one_channel_source_transfers_into_three_channel_target():
    from keras_transfer_gan.transfer import rebuild_heads

    source = create_model("dcgan", tiny=True)  # gray
    target = create_model("dcgan", tiny=True, channels=3)
    report = rebuild_heads(source, target)
    assert not report.problems, str(report)
    assert report.by_status("adapted") == [
        "generator/g_out_deconv/kernel", "generator/g_out_deconv/bias", "discriminator/d_block1_conv/kernel"
    ]
    z = np.random.default_rng(0).standard_normal((4, 16)).astype("float32")
    gray = source.generate(z)
    np.testing.assert_allclose(target.generate(z), np.repeat(gray, 3, axis=-1), atol=1e-6)
    # D sees a gray image given as RGB exactly as the source saw the gray image.
    np.testing.assert_allclose(
        target.discriminator(np.repeat(gray, 3, axis=-1), training=False).numpy(),
        source.discriminator(gray, training=False).numpy(), rtol=1e-5, atol=1e-6,
    )


def test_three_to_one_channel_and_repeat_mode():
    from keras_transfer_gan.transfer import rebuild_heads

    source = create_model("dcgan", tiny=True, channels=3)
    target = create_model("dcgan", tiny=True, channels=1)
    assert not rebuild_heads(source, target).problems
    kernel = source.discriminator.get_layer("d_block1_conv").get_weights()[0]
    np.testing.assert_allclose(target.discriminator.get_layer("d_block1_conv").get_weights()[0],
                               kernel.sum(axis=2, keepdims=True), rtol=1e-6)
    repeat = create_model("dcgan", tiny=True, channels=3)
    rebuild_heads(create_model("dcgan", tiny=True), repeat, mode="repeat")
    first = repeat.discriminator.get_layer("d_block1_conv").get_weights()[0]
    np.testing.assert_array_equal(first[:, :, 0], first[:, :, 2])


def test_new_class_count_keeps_the_shared_classes():
    from keras_transfer_gan.transfer import rebuild_heads

    source = create_model("acgan", tiny=True, num_classes=10)
    target = create_model("acgan", tiny=True, num_classes=5)
    report = rebuild_heads(source, target, class_map={0: 5, 1: 6, 2: 7, 3: 8, 4: 9})
    assert not report.problems, str(report)
    src_rows = source.generator.get_layer("g_label_embedding").get_weights()[0]
    np.testing.assert_array_equal(target.generator.get_layer("g_label_embedding").get_weights()[0], src_rows[5:10])
    src_head = source.discriminator.get_layer("d_class_logits").get_weights()
    tgt_head = target.discriminator.get_layer("d_class_logits").get_weights()
    np.testing.assert_array_equal(tgt_head[0], src_head[0][:, 5:10])
    np.testing.assert_array_equal(tgt_head[1], src_head[1][5:10])
    # More classes than the source: the extra rows keep their initialisation.
    bigger = create_model("acgan", tiny=True, num_classes=12)
    init = bigger.generator.get_layer("g_label_embedding").get_weights()[0].copy()
    rebuild_heads(source, bigger)
    rows = bigger.generator.get_layer("g_label_embedding").get_weights()[0]
    np.testing.assert_array_equal(rows[:10], src_rows)
    np.testing.assert_array_equal(rows[10:], init[10:])


def test_new_vocabulary_copies_rows_of_shared_characters():
    from keras_transfer_gan.data import Vocabulary
    from keras_transfer_gan.transfer import rebuild_heads

    src_vocab, tgt_vocab = Vocabulary.from_text("abcdef"), Vocabulary.from_text("xfab")
    source = create_model("char_lstm", tiny=True, vocabulary=src_vocab)
    target = create_model("char_lstm", tiny=True, vocabulary=tgt_vocab)
    init = target.network.get_layer("embedding").get_weights()[0].copy()
    report = rebuild_heads(source, target, vocabularies=(src_vocab, tgt_vocab))
    assert not report.problems, str(report)
    src_emb = source.network.get_layer("embedding").get_weights()[0]
    tgt_emb = target.network.get_layer("embedding").get_weights()[0]
    for char in "fab":
        np.testing.assert_array_equal(tgt_emb[tgt_vocab.encode(char)[0]], src_emb[src_vocab.encode(char)[0]])
    np.testing.assert_array_equal(tgt_emb[tgt_vocab.encode("x")[0]], init[tgt_vocab.encode("x")[0]])
    src_logits = source.network.get_layer("logits").get_weights()[0]
    tgt_logits = target.network.get_layer("logits").get_weights()[0]
    np.testing.assert_array_equal(tgt_logits[:, tgt_vocab.encode("a")[0]], src_logits[:, src_vocab.encode("a")[0]])


# --------------------------------------------------------------------- ADA
def test_ada_probability_follows_r_t_towards_the_target():
    from keras_transfer_gan.transfer import ADA

    ada = ADA(target=0.6, speed_kimg=0.1, interval=1)
    overfit = tf.ones([50, 1])  # every real logit positive: r_t = 1 > 0.6
    r_t = ada.update(overfit)
    assert float(r_t) == 1.0 and float(ada.p) == pytest.approx(50 / 100)
    ada.update(overfit)
    assert float(ada.p) == pytest.approx(0.8)  # clipped at max_p
    for _ in range(3):
        ada.update(-tf.ones([50, 1]))  # r_t = -1 < 0.6: less augmentation
    assert float(ada.p) == 0.0
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (6, 16, 16, 1)), tf.float32)
    np.testing.assert_array_equal(ada(x, tf.constant([0, 1])), x)  # p = 0: untouched
    ada.p.assign(1.0)
    assert not np.allclose(ada(x, tf.constant([0, 1])), x)


def test_ada_controller_runs_at_the_papers_cadence_and_speed():
    """Defaults as published: p moves only every 4th D step, by sign(r_t - 0.6) * (images of those 4 steps) /
    500,000, r_t being the mean sign over all 4 steps' real logits."""
    from keras_transfer_gan.transfer import ADA

    ada = ADA()
    assert (ada.speed_kimg, ada.interval, ada.target) == (500.0, 4, 0.6)
    mostly_real = tf.constant([[1.0]] * 24 + [[-1.0]] * 8)  # r_t = 0.5 alone: below the target
    for _ in range(3):
        ada.update(tf.ones([32, 1]))
        assert float(ada.p) == 0.0  # no adjustment between the 4th steps
    r_t = ada.update(mostly_real)  # over the 4 steps: (96 + 24 - 8) / 128 = 0.875 > 0.6
    assert float(r_t) == pytest.approx(0.875) and float(ada.p) == pytest.approx(128 / 500_000)
    for _ in range(4):
        ada.update(-tf.ones([32, 1]))
    assert float(ada.p) == 0.0  # r_t = -1: back down (clipped at 0)


@pytest.mark.parametrize("bias, initial_p, rises", [(5.0, 0.0, True), (-5.0, 0.5, False)])
def test_ada_adapts_during_training(bias, initial_p, rises):
    """In fit, a D that calls every real image real (overfitting: r_t = 1) drives p up; one that does not
    (r_t = -1) drives it down."""
    from keras_transfer_gan.transfer import ADA

    model = create_model("dcgan", tiny=True)
    kernel, _ = model.discriminator.get_layer("d_logits").get_weights()
    model.discriminator.get_layer("d_logits").set_weights([kernel * 0, np.array([bias], np.float32)])
    freeze(model, pattern="discriminator/")
    ada = ADA(speed_kimg=0.05, initial_p=initial_p)
    compile_for_training(model, augment=ada)
    model.fit(_data(64), epochs=1, verbose=0)
    assert float(ada.p) == pytest.approx(0.8 if rises else 0.0)


def test_ada_pipeline_applies_each_published_transform_with_probability_p():
    from keras_transfer_gan.transfer import ADA
    from keras_transfer_gan.transfer.augmentation.ada import COLOR, TRANSFORMS

    rng = np.random.default_rng(0)
    colour = tf.constant(rng.uniform(-1, 1, (32, 16, 16, 3)), tf.float32)
    gray = tf.constant(rng.uniform(-1, 1, (32, 16, 16, 1)), tf.float32)
    seed = tf.constant([3, 4])
    ada = ADA(initial_p=1.0, max_p=1.0)
    for images in (colour, gray):  # p = 0: every image passes unchanged, to the bit
        np.testing.assert_array_equal(ada.augment(images, seed, 0.0).numpy(), images.numpy())
    for name in TRANSFORMS:  # p = 1: each transform alone changes the images it draws a non-identity for
        out = ADA(transforms=(name,), initial_p=1.0, max_p=1.0)(colour, seed).numpy()
        changed = np.array([not np.allclose(o, i, atol=1e-4) for o, i in zip(out, colour.numpy())])
        assert changed.mean() > 0.25, name  # xflip and lumaflip draw the identity for half the images
        if name == "xflip":
            np.testing.assert_allclose(out[changed], colour.numpy()[changed][:, :, ::-1], atol=1e-5)
        if name == "rotate90":
            k = [next(k for k in (1, 2, 3) if np.allclose(o, np.rot90(i, k, axes=(0, 1)), atol=1e-5))
                 for o, i in zip(out[changed], colour.numpy()[changed])]
            assert set(k) <= {1, 2, 3}
        if name in ("hue", "saturation"):  # nothing to act on in a gray image
            np.testing.assert_allclose(ADA(transforms=(name,), initial_p=1.0, max_p=1.0)(gray, seed), gray, atol=1e-6)
    half = ADA(initial_p=0.5)(colour, seed).numpy()
    untouched = np.mean([np.array_equal(o, i) for o, i in zip(half, colour.numpy())])
    assert 0.0 <= untouched < 0.1  # with 12 transforms at p = 0.5, almost every image gets at least one
    assert set(COLOR) < set(TRANSFORMS)


def test_ada_transform_statistics_and_order():
    """Each transform's parameters as published, measured on 4,096 images at p = 1: brightness N(0, 0.2),
    contrast and saturation log2-normal (std 0.5, 1), lumaflip and xflip half the images, rotate90 a quarter
    each; brightness is applied before contrast; the two rotations together happen with probability p."""
    from keras_transfer_gan.transfer import ADA

    n, seed = 4096, tf.constant([7, 8])

    def only(names, images, p=1.0):
        return ADA(transforms=names, initial_p=p, max_p=1.0).augment(images, seed, p).numpy()

    zeros, ones = tf.zeros([n, 4, 4, 1]), tf.ones([n, 4, 4, 1])
    b = only(("brightness",), zeros)[:, 0, 0, 0]
    assert abs(b.mean()) < 0.02 and b.std() == pytest.approx(0.2, rel=0.05)
    c = only(("contrast",), ones)[:, 0, 0, 0]
    assert np.log2(c).std() == pytest.approx(0.5, rel=0.05) and abs(np.log2(c).mean()) < 0.03
    np.testing.assert_allclose(only(("brightness", "contrast"), zeros)[:, 0, 0, 0], c * b, rtol=1e-4, atol=1e-6)
    flips = only(("lumaflip",), ones)[:, 0, 0, 0]
    assert set(np.round(flips, 4)) == {-1.0, 1.0} and (flips < 0).mean() == pytest.approx(0.5, abs=0.03)
    rgb = tf.tile(tf.constant([[[[0.5, -0.5, 0.0]]]]), [n, 4, 4, 1])
    saturated = only(("saturation",), rgb)[:, 0, 0, :]
    assert np.log2(np.abs(saturated[:, 0] - saturated[:, 1]) / 1.0).std() == pytest.approx(1.0, rel=0.05)
    ramp = tf.tile(tf.reshape(tf.range(16, dtype=tf.float32) / 16.0, [1, 4, 4, 1]), [n, 1, 1, 1])
    flipped = only(("xflip",), ramp)
    assert np.mean([np.allclose(f, r[:, ::-1], atol=1e-5) for f, r in zip(flipped, ramp.numpy())]) == \
        pytest.approx(0.5, abs=0.03)
    turned = only(("rotate90",), ramp)
    counts = [np.mean([np.allclose(t, np.rot90(r, k, axes=(0, 1)), atol=1e-5) for t, r in zip(turned, ramp.numpy())])
              for k in range(4)]
    np.testing.assert_allclose(counts, 0.25, atol=0.03)
    _, gates = ADA().gates(n, seed, 0.5)  # two independent rotations, each at 1 - sqrt(1 - p)
    pre, post = gates["rotate"].numpy(), gates["rotate_post"].numpy()
    assert pre.mean() == pytest.approx(1 - 0.5 ** 0.5, abs=0.03) and post.mean() == pytest.approx(1 - 0.5 ** 0.5, abs=0.03)
    assert (pre & post).mean() == pytest.approx((1 - 0.5 ** 0.5) ** 2, abs=0.02)
    assert gates["xflip"].numpy().mean() == pytest.approx(0.5, abs=0.03)
    rotated = only(("rotate",), ramp, p=0.5)  # pre or post rotation: 1 - (1 - p_rot)^2 = p
    assert np.mean([not np.allclose(t, r, atol=1e-5) for t, r in zip(rotated, ramp.numpy())]) == \
        pytest.approx(0.5, abs=0.03)


def test_ada_gradients_reach_the_generator():
    from keras_transfer_gan.transfer import ADA

    model = create_model("dcgan", tiny=True, channels=3)
    ada = ADA(initial_p=1.0, max_p=1.0)
    z = tf.random.stateless_normal([8, 16], seed=[0, 1])
    with tf.GradientTape() as tape:
        score = tf.reduce_sum(model.discriminator(ada(model.generator(z, training=True), tf.constant([5, 6]))))
    grads = tape.gradient(score, model.generator.trainable_weights)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
