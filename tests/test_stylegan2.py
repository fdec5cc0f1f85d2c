"""StyleGAN2 at small scale: its layers by mechanism, and the model as every GAN of the zoo is held to."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model
from keras_transfer_gan.layers import EqualizedConv2D, EqualizedDense, MinibatchStd, ModulatedConv2D, WAverage
from keras_transfer_gan.models.stylegan2 import noise_input_shapes
from keras_transfer_gan.training import Trainer, compile_for_training
from tests.helpers import assert_weights_equal

RNG = np.random.default_rng(0)


def _x(*shape):
    return tf.constant(RNG.standard_normal(shape).astype("float32"))


# ------------------------------------------------------------------------------------------------ layers
def test_equalized_dense_scales_weights_at_run_time():
    layer = EqualizedDense(3, lr_multiplier=0.01, bias_init=0.5, activation="lrelu")
    x = _x(4, 8)
    y = layer(x).numpy()
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    assert 50 < kernel.std() < 200  # stored at 1 / lr_multiplier
    pre = x.numpy() @ kernel * (0.01 / math.sqrt(8)) + bias * 0.01
    np.testing.assert_allclose(y, np.where(pre > 0, pre, 0.2 * pre) * math.sqrt(2), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="activation"):
        EqualizedDense(3, activation="tanh")


def test_equalized_conv_downsamples_by_average_and_scales_by_he():
    layer = EqualizedConv2D(2, 1, activation="linear", use_bias=False, downsample=True, gain=0.5)
    x = _x(1, 4, 4, 3)
    y = layer(x).numpy()
    full = np.einsum("bhwc,co->bhwo", x.numpy(), layer.kernel.numpy()[0, 0]) / math.sqrt(3)
    pooled = full.reshape(1, 2, 2, 2, 2, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(y, 0.5 * pooled, rtol=1e-5, atol=1e-6)


def test_demodulation_makes_the_output_independent_of_the_style_scale():
    """The mechanism of demodulation: scaling a sample's style by any constant leaves its output unchanged;
    without demodulation the output scales with it."""
    x, styles = _x(2, 8, 8, 4), _x(2, 4)
    demod = ModulatedConv2D(5, 3, use_noise=False, activation="linear")
    np.testing.assert_allclose(demod([x, styles * 7.0]), demod([x, styles]), rtol=1e-4, atol=1e-5)
    plain = ModulatedConv2D(5, 3, demodulate=False, use_noise=False, activation="linear")
    np.testing.assert_allclose(plain([x, styles * 7.0]), 7.0 * plain([x, styles]).numpy(), rtol=1e-4, atol=1e-4)
    # Demodulated outputs have about unit variance whatever the weights' scale (the point of it).
    big = ModulatedConv2D(16, 3, use_noise=False, activation="linear")
    big.build([(None, 32, 32, 16), (None, 16)])
    big.kernel.assign(big.kernel * 50.0)
    y = big([_x(8, 32, 32, 16), tf.ones((8, 16))]).numpy()
    assert 0.5 < y[:, 1:-1, 1:-1].std() < 2.0


def test_modulated_conv_equals_the_per_sample_scaled_kernel():
    """Non-fused == fused: conv(x * s) * d equals convolving with W * s / ||W * s|| per sample."""
    x, styles = _x(2, 6, 6, 3), _x(2, 3)
    layer = ModulatedConv2D(4, 3, use_noise=False, activation="linear")
    y = layer([x, styles]).numpy()
    for i in range(2):
        w = layer.kernel.numpy() * styles.numpy()[i][None, None, :, None]
        w = w / np.sqrt((w ** 2).sum(axis=(0, 1, 2), keepdims=True) + 1e-8)
        expected = tf.nn.conv2d(x[i:i + 1], w, 1, "SAME").numpy()
        np.testing.assert_allclose(y[i:i + 1], expected, rtol=1e-4, atol=1e-5)


def test_noise_enters_with_a_learned_strength_that_starts_at_zero():
    x, styles, noise = _x(2, 4, 4, 3), _x(2, 3), _x(2, 4, 4, 1)
    layer = ModulatedConv2D(3, 3)
    quiet = layer([x, styles, noise]).numpy()
    np.testing.assert_allclose(quiet, layer([x, styles, noise * 0.0]), atol=1e-6)  # strength 0: no effect
    layer.noise_strength.assign(0.5)
    assert not np.allclose(quiet, layer([x, styles, noise]))
    with pytest.raises(ValueError, match="noise"):
        layer([x, styles])


def test_minibatch_std_against_numpy():
    x = _x(4, 2, 2, 6)
    y = MinibatchStd(group_size=2)(x).numpy()
    v = x.numpy().reshape(2, 2, 2, 2, 1, 6)
    std = np.sqrt(((v - v.mean(0)) ** 2).mean(0) + 1e-8).mean(axis=(1, 2, 4))  # [n, F]
    expected = np.tile(std.reshape(2, 1, 1, 1), (2, 2, 2, 1))
    np.testing.assert_allclose(y[..., :6], x.numpy())
    np.testing.assert_allclose(y[..., 6:], expected, rtol=1e-5)


@pytest.mark.parametrize("batch, group", [(10, 5), (25, 5), (6, 3), (7, 7), (3, 3), (32, 4), (12, 4), (1, 1)])
def test_minibatch_std_groups_any_batch_by_its_divisor_nearest_the_group_size(batch, group):
    """Few-shot batches (N = 10, 25) are not multiples of 4: the group is the batch's divisor nearest 4, static
    or dynamic, and the feature equals NumPy's with that group."""
    layer = MinibatchStd(group_size=4)
    assert layer.group_for(batch) == group
    dynamic = tf.function(lambda t: layer(t), input_signature=[tf.TensorSpec([None, 2, 2, 6])])
    x = _x(batch, 2, 2, 6)
    v = x.numpy().reshape(group, batch // group, 2, 2, 1, 6)
    std = np.sqrt(((v - v.mean(0)) ** 2).mean(0) + 1e-8).mean(axis=(1, 2, 4))
    expected = np.tile(std.reshape(-1, 1, 1, 1), (group, 2, 2, 1))
    for y in (layer(x).numpy(), dynamic(x).numpy()):
        np.testing.assert_allclose(y[..., 6:], expected, rtol=1e-5)


def test_w_average_moves_only_in_training_and_truncates_towards_it():
    layer = WAverage(beta=0.9)
    w = _x(8, 5)
    layer(w)
    np.testing.assert_array_equal(layer.w_avg.numpy(), 0.0)
    layer(w, training=True)
    np.testing.assert_allclose(layer.w_avg.numpy(), 0.1 * w.numpy().mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.truncate(w, 0.0), np.broadcast_to(layer.w_avg.numpy(), (8, 5)))
    np.testing.assert_allclose(layer.truncate(w, 1.0), w, rtol=1e-6, atol=1e-6)  # avg + (w - avg): float32 rounding


# ------------------------------------------------------------------------------------------------- model
@pytest.fixture
def images():
    return RNG.uniform(-1, 1, (32, 16, 16, 1)).astype("float32")


def test_generator_takes_one_noise_map_per_synthesis_layer():
    model = create_model("stylegan2", tiny=True)
    shapes = noise_input_shapes(16)
    assert [s for _, s in shapes] == [4, 8, 8, 16, 16]
    assert [tuple(i.shape) for i in model.generator.inputs] == [(None, 16)] + [(None, r, r, 1) for _, r in shapes]
    assert [layer.lr_multiplier for layer in model.mapping.layers if isinstance(layer, EqualizedDense)] == [0.01, 0.01]
    assert model.generate(3, seed=0).shape == (3, 16, 16, 1)


def test_truncation_zero_gives_the_average_image():
    model = create_model("stylegan2", tiny=True)
    images = model.sample(4, seed=0, truncation=0.0)  # every w the average; noise strengths are 0 at first
    np.testing.assert_allclose(images, np.broadcast_to(images[:1], images.shape), atol=1e-5)
    assert not np.allclose(model.sample(4, seed=0), images[0])


def test_every_output_is_clipped_to_the_image_range():
    """The ToRGB sum is not squashed: a generator far out of range still samples and serves images in [-1, 1]."""
    model = create_model("stylegan2", tiny=True)
    for network in {id(m): m for m in (model.generator, model.sampler)}.values():
        for layer in network.layers:
            if layer.name.endswith("_torgb"):
                layer.set_weights([w * 1e3 for w in layer.get_weights()])
    z = model._noise(8, 0)
    noise = model.extra_generator_inputs(8, model._sample_seed(0))
    w = model.mapping(z, training=False)
    assert np.abs(model.synthesis([w, *noise], training=False).numpy()).max() > 2.0  # really out of range
    signatures = model.serving_signatures()
    outputs = [model.generate(8, seed=0), model.sample(8, seed=0), model.sample(8, seed=0, truncation=0.5),
               signatures["serving_default"].fn(z, tf.constant(0.7))["images"].numpy(),
               signatures["synthesis"].fn(w, *noise)["images"].numpy()]
    for images in outputs:
        assert images.min() == -1.0 and images.max() == 1.0  # reaches both ends, never past them
    np.testing.assert_allclose(outputs[0], np.clip(model.synthesis([w, *noise], training=False).numpy(), -1, 1),
                               atol=1e-5)


def test_lazy_r1_only_on_its_steps(images):
    model = create_model("stylegan2", tiny=True, r1_interval=4, r1_gamma=1.0)
    compile_for_training(model)
    real = tf.constant(images[:8])
    model.g_optimizer.iterations.assign(4)
    penalty, logs = model.d_auxiliary_loss(real, real, None, None, None)
    x = tf.identity(real)
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = model.discriminator(x, training=True)
    expected = (tape.gradient(logits, x).numpy() ** 2).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(penalty, 0.5 * 1.0 * 4 * expected, rtol=1e-4)
    np.testing.assert_allclose(logs["r1"], expected.mean(), rtol=1e-4)
    model.g_optimizer.iterations.assign(5)
    np.testing.assert_array_equal(model.d_auxiliary_loss(real, real, None, None, None)[0], 0.0)


def test_fit_tracks_w_average_and_round_trips(tmp_path, images):
    model = create_model("stylegan2", tiny=True, ema_decay=0.9)
    compile_for_training(model, augment=None)
    history = model.fit(tf.data.Dataset.from_tensor_slices(images).batch(8), epochs=1, verbose=0).history
    assert {"d_loss", "g_loss", "r1"} <= set(history) and all(np.isfinite(v[0]) for v in history.values())
    w_avg = model.generator.get_layer("w_avg").w_avg.numpy()
    assert np.abs(w_avg).max() > 0
    np.testing.assert_array_equal(model.generator_ema.get_layer("w_avg").w_avg, w_avg)
    count = len(model.weights)
    model.sample(2, seed=0, truncation=0.5)  # builds the mapping / synthesis views: not new weights of the model
    assert len(model.weights) == count
    path = str(tmp_path / "sg.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.generate(4, seed=3), model.generate(4, seed=3), atol=1e-5)
    np.testing.assert_allclose(loaded.sample(2, seed=3, truncation=0.7), model.sample(2, seed=3, truncation=0.7),
                               atol=1e-5)


def test_resume_continues_exactly_noise_maps_included(tmp_path, images):
    data = tf.data.Dataset.from_tensor_slices(images).batch(8)

    def model():
        m = create_model("stylegan2", tiny=True, r1_interval=2)
        compile_for_training(m)
        return m

    keras.utils.set_random_seed(0)
    straight = model()
    start = [w.numpy() for w in straight.weights]
    Trainer(straight, verbose=0).fit(data, epochs=4)
    first = model()
    first.set_weights(start)
    Trainer(first, checkpoint_dir=str(tmp_path), verbose=0).fit(data, epochs=2)
    resumed = model()
    Trainer(resumed, checkpoint_dir=str(tmp_path), verbose=0).fit(data, epochs=4, resume=True)
    assert_weights_equal(straight, resumed, atol=1e-5)


def test_discriminator_blocks_for_freeze_d():
    model = create_model("stylegan2", tiny=True)
    blocks = model.discriminator_blocks()
    assert len(blocks) == 2 and blocks[0][0] == "d_block1_fromrgb" and all(n.startswith("d_block2") for n in blocks[1])


def test_few_shot_methods_run_on_it(images):
    """CDC (anchors and patch head on D's declared block), EWC (Fisher through the noise inputs), Freeze-D and
    style-path adaptation (only the affine style layers train) build and take a training step."""
    from keras_transfer_gan.tasks.trgan import TrGANOptions, build_trgan_target

    source = create_model("stylegan2", tiny=True)
    compile_for_training(source)
    assert source.cdc_layers() == ["g_4_conv1", "g_8_conv1"] and source.cdc_patch_layer() == "d_block1_add"
    options = TrGANOptions(freeze_d=1, cdc=100.0, cdc_anchors=4, ewc=1.0, scale_shift="bn")
    target, _, _ = build_trgan_target(source, options)
    trainable = {w.path.split("/")[0] for w in target.generator.trainable_weights}
    assert trainable and all(name.endswith("_affine") for name in trainable)
    assert not target.discriminator.get_layer("d_block1_conv0").trainable
    logs = target.fit(tf.data.Dataset.from_tensor_slices(images[:16]).batch(8), epochs=1, verbose=0).history
    assert logs["g_penalty"][0] > 0 and np.isfinite(logs["d_loss"][0])


def test_ktg_sample_takes_truncation_where_the_model_declares_it(tmp_path):
    import subprocess
    import sys

    model = create_model("stylegan2", tiny=True)
    model.save(str(tmp_path / "sg.keras"))
    create_model("dcgan", tiny=True).save(str(tmp_path / "dc.keras"))
    run = [sys.executable, "-m", "keras_transfer_gan.cli", "sample", "--n", "4"]
    done = subprocess.run(run + ["--model", str(tmp_path / "sg.keras"), "--out", str(tmp_path / "s.png"),
                                 "--truncation", "0.5"], capture_output=True, text=True)
    assert done.returncode == 0 and (tmp_path / "s.png").stat().st_size > 0, done.stderr[-500:]
    bad = subprocess.run(run + ["--model", str(tmp_path / "dc.keras"), "--out", str(tmp_path / "d.png"),
                                "--truncation", "0.5"], capture_output=True, text=True)
    assert bad.returncode != 0 and "--truncation: DCGAN does not take truncation" in bad.stderr


def test_freeze_g_freezes_the_mapping_and_the_first_blocks():
    from keras_transfer_gan.transfer import freeze_generator_blocks

    model = create_model("stylegan2", tiny=True)
    blocks = model.generator_blocks()
    assert len(blocks) == 3 and "map_fc0" in blocks[0] and "g_const" in blocks[0]
    assert set(blocks[2]) >= {"g_16_conv0", "g_16_conv0_affine", "g_16_conv1", "g_16_torgb"}
    freeze_generator_blocks(model, 2)
    trainable = {w.path.split("/")[0] for w in model.generator.trainable_weights}
    assert trainable == {name for name in blocks[2] if model.generator.get_layer(name).weights}
    with pytest.raises(ValueError, match="freeze_g: the generator has 3 blocks, cannot freeze 4"):
        freeze_generator_blocks(model, 4)
    with pytest.raises(ValueError, match="DCGAN does not support freeze_g"):
        freeze_generator_blocks(create_model("dcgan", tiny=True), 1)


def test_latent_adaptor_starts_as_the_source_and_trains_alone(images):
    from keras_transfer_gan.tasks.trgan import TrGANOptions, build_trgan_target
    from tests.helpers import spread_weights

    source = spread_weights(create_model("stylegan2", tiny=True), seed=2)
    target, _, _ = build_trgan_target(source, TrGANOptions(latent_adaptor=True))
    np.testing.assert_allclose(target.generate(4, seed=5), source.generate(4, seed=5), atol=1e-5)  # identity at first
    assert {w.path.split("/")[0] for w in target.generator.trainable_weights} == {"w_adaptor"}
    before = {w.path: w.numpy() for w in target.generator.weights}
    target.fit(tf.data.Dataset.from_tensor_slices(images[:16]).batch(8), epochs=1, verbose=0)
    moved = {p for p, v in before.items()
             if not np.allclose(v, {w.path: w.numpy() for w in target.generator.weights}[p])}
    assert moved and all(p.startswith("w_adaptor/") or p.startswith("w_avg/") for p in moved), moved
    with pytest.raises(ValueError, match="not both"):
        build_trgan_target(source, TrGANOptions(latent_adaptor=True, scale_shift="bn"))
    with pytest.raises(ValueError, match="DCGAN does not support latent_adaptor"):
        build_trgan_target(create_model("dcgan", tiny=True), TrGANOptions(latent_adaptor=True))


def test_fused_modulated_conv_equals_the_non_fused_form_with_gradients():
    x, styles = _x(3, 6, 6, 4), _x(3, 4)
    plain = ModulatedConv2D(5, 3, use_noise=False)
    fused = ModulatedConv2D(5, 3, use_noise=False, fused=True)
    plain.build([(None, 6, 6, 4), (None, 4)])
    fused.build([(None, 6, 6, 4), (None, 4)])
    fused.set_weights(plain.get_weights())
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, styles])
        a, b = plain([x, styles]), fused([x, styles])
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    for source in (x, styles, plain.kernel):
        target = fused.kernel if source is plain.kernel else source
        np.testing.assert_allclose(tape.gradient(b, target), tape.gradient(a, source), rtol=1e-3, atol=1e-4)


def test_class_conditional_stylegan2_trains_on_labels_and_samples_by_class(tmp_path, images):
    from keras_transfer_gan.transfer import derive_model
    from tests.helpers import spread_weights

    model = spread_weights(create_model("cstylegan2", tiny=True, num_classes=3), seed=4)
    assert model.consumes == "labelled_images" and model.conditions == "labels"
    compile_for_training(model)
    labels = np.arange(32) % 3
    history = model.fit(tf.data.Dataset.from_tensor_slices((images, labels)).batch(8), epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"][0]) and history["r1"][0] > 0
    z = np.repeat(RNG.standard_normal((1, 16)).astype("float32"), 3, axis=0)
    by_class = model.generate(z, labels=[0, 1, 2], seed=0)
    assert not np.allclose(by_class[0], by_class[1])  # the same z, another class: another image
    truncated = model.sample(3, conditions=[2, 2, 2], seed=0, truncation=0.0)
    np.testing.assert_allclose(truncated[0], truncated[1], atol=1e-5)
    with pytest.raises(ValueError, match="labels must be in"):
        model.generate(2, labels=[0, 5])
    path = str(tmp_path / "c.keras")
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path).generate(4, seed=1), model.generate(4, seed=1),
                               atol=1e-5)
    target, report = derive_model(model, num_classes=5)  # class rows carried, new ones added
    assert report.counts()["adapted"] == 2 and target.generate(5, seed=0).shape == (5, 16, 16, 1)


def test_rank_one_kernel_modulation_trains_the_style_path_only_and_folds_back(images):
    from keras_transfer_gan.tasks.trgan import TrGANOptions, build_trgan_target
    from keras_transfer_gan.transfer import fold_modulation
    from tests.helpers import spread_weights

    source = spread_weights(create_model("stylegan2", tiny=True), seed=3)
    target, _, _ = build_trgan_target(source, TrGANOptions(scale_shift="adafm"))
    np.testing.assert_allclose(target.generate(4, seed=2), source.generate(4, seed=2), atol=1e-5)  # 1 + u v^T = 1
    trainable = {w.path for w in target.generator.trainable_weights}
    assert any(p.endswith("kernel_v") for p in trainable) and any(p.endswith("_affine/kernel") for p in trainable)
    assert not any(p.startswith("g_") and p.endswith("conv1/kernel") for p in trainable)  # W itself is frozen
    kernel = target.generator.get_layer("g_8_conv1").kernel.numpy()
    target.fit(tf.data.Dataset.from_tensor_slices(images[:16]).batch(8), epochs=1, verbose=0)
    layer = target.generator.get_layer("g_8_conv1")
    np.testing.assert_array_equal(layer.kernel.numpy(), kernel)
    assert np.abs(layer.kernel_v.numpy()).max() > 0
    plain = fold_modulation(target)
    assert not plain.modulated_kernels
    np.testing.assert_allclose(plain.generate(4, seed=2), target.generate(4, seed=2), atol=1e-4)


def test_trainers_build_nvlabs_adam_for_it():
    model = create_model("stylegan2", tiny=True)
    compile_for_training(model)
    for optimizer in (model.g_optimizer, model.d_optimizer):
        assert float(optimizer.learning_rate) == pytest.approx(2.5e-3)
        assert optimizer.beta_1 == 0.0 and optimizer.beta_2 == 0.99


def test_study_arms_reach_the_style_based_methods():
    """The study's arm strings build FreezeG (at the tuned depth) and GenDA's latent adaptor on a style-based
    source, and the tuning sweeps FreezeG only as deep as leaves a block to train."""
    from keras_transfer_gan.study import build_arm_model, method_label, parse_method
    from keras_transfer_gan.study.tuning import _sweep, knobs

    source = create_model("stylegan2", tiny=True)
    blocks = source.generator_blocks()
    model, _ = build_arm_model("trgan+freeze_d+diffaugment+freeze_g", source, 1, weights={"freeze_g": 1})
    frozen = {w.path.split("/")[0] for w in model.generator.weights} - \
        {w.path.split("/")[0] for w in model.generator.trainable_weights}
    assert frozen == {n for n in blocks[0] if model.generator.get_layer(n).weights}
    model, _ = build_arm_model("trgan+diffaugment+latent_adaptor", source, 1)
    assert {w.path.split("/")[0] for w in model.generator.trainable_weights} == {"w_adaptor"}
    assert method_label("trgan+freeze_d+freeze_g") == "TrGAN + Freeze-D + FreezeG"
    assert knobs("trgan+freeze_d+diffaugment+freeze_g") == ["freeze_g"]
    assert knobs("trgan+diffaugment+latent_adaptor") == ["learning_rate"]

    class Target:  # what _sweep reads of a study target
        pass
    target = Target()
    target.source = source
    assert _sweep("freeze_g", target) == (1, 2)  # 3 blocks: at most 2 frozen
    with pytest.raises(ValueError, match="latent_adaptor trains only"):
        parse_method("trgan+latent_adaptor+freeze_g")
