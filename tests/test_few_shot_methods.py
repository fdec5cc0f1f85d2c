"""Few-shot adaptation methods, tested by their mechanism: CDC, EWC, scale/shift, best-checkpoint selection."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model
from keras_transfer_gan.training import KeepBest, Trainer, compile_for_training
from keras_transfer_gan.transfer.regularizers.cdc import CDC, distance_consistency
from keras_transfer_gan.study import build_arm_model, method_label, parse_method
from keras_transfer_gan.transfer.regularizers.ewc import EWC, estimate_fisher
from keras_transfer_gan.transfer.adaptation.heads import rebuilt_target
from keras_transfer_gan.transfer.adaptation.scale_shift import fold_modulation, scale_shift_target
from keras_transfer_gan.transfer.adaptation.weights import named_weights
from tests.helpers import assert_weights_equal, spread_weights

Z = np.random.default_rng(0).standard_normal((6, 16)).astype("float32")


@pytest.fixture
def source():
    return spread_weights(create_model("dcgan", tiny=True), seed=1)


def _images(n=32, size=16, channels=1, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, channels)).astype("float32")


def _perturb(model, scale=0.05, seed=3):
    rng = np.random.default_rng(seed)
    for w in model.generator.trainable_weights:
        w.assign(w.numpy() + rng.normal(0, scale, w.shape).astype("float32"))


# ----------------------------------------------------------------------------------------------- CDC
def test_distance_consistency_is_the_kl_of_row_softmaxes():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 3, 2, 4)), rng.normal(size=(5, 3, 2, 4))

    def log_rows(x):
        x = x.reshape(len(x), -1)
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        sim = x @ x.T
        rows = np.array([np.delete(sim[i], i) for i in range(len(x))])
        rows = rows - rows.max(1, keepdims=True)
        return rows - np.log(np.exp(rows).sum(1, keepdims=True))

    lp, lq = log_rows(a), log_rows(b)
    expected = np.mean(np.exp(lp) * (lp - lq))  # the authors' KLDivLoss(): a mean over all n (n - 1) entries
    got = float(distance_consistency([tf.constant(a, tf.float32)], [tf.constant(b, tf.float32)]))
    assert got == pytest.approx(expected, rel=1e-5)
    assert float(distance_consistency([tf.constant(a, tf.float32)] * 2, [tf.constant(a, tf.float32)] * 2)) == \
        pytest.approx(0.0, abs=1e-6)
    # Two layers, each row at its own layer (the authors draw one per anchor): rows 0, 2, 4 from the second.
    c, d = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    lp2, lq2 = log_rows(c), log_rows(d)
    rows = np.array([1, 0, 1, 0, 1])
    mixed_p = np.where(rows[:, None] == 1, lp2, lp)
    mixed_q = np.where(rows[:, None] == 1, lq2, lq)
    got = float(distance_consistency([tf.constant(a, tf.float32), tf.constant(c, tf.float32)],
                                     [tf.constant(b, tf.float32), tf.constant(d, tf.float32)], rows))
    assert got == pytest.approx(np.mean(np.exp(mixed_p) * (mixed_p - mixed_q)), rel=1e-5)


def test_cdc_draws_one_layer_per_anchor_each_step(source):
    """The layer each anchor row is compared at is drawn uniformly per row, anew each step (keyed by step)."""
    target, _ = rebuilt_target(source)
    cdc = CDC(source, batch_size=4)
    compile_for_training(target, regularizers=[cdc])
    draws = []
    for _ in range(64):
        draws.append(cdc.rows_layer().numpy())
        target.g_optimizer.iterations.assign_add(1)
    draws = np.array(draws)
    assert draws.shape == (64, 4) and set(draws.ravel()) == {0, 1}
    assert abs(draws.mean() - 0.5) < 0.1 and len({tuple(d) for d in draws}) > 8
    target.g_optimizer.iterations.assign(0)
    np.testing.assert_array_equal(cdc.rows_layer().numpy(), draws[0])


def test_cdc_is_zero_for_the_source_and_its_gradient_reaches_the_generator(source):
    target, _ = rebuilt_target(source)
    cdc = CDC(source, weight=10.0, batch_size=6)
    compile_for_training(target, regularizers=[cdc])
    assert cdc.layers == ["g_project_relu", "g_up1_relu"]
    assert float(cdc.loss()) == pytest.approx(0.0, abs=1e-6)
    _perturb(target)
    with tf.GradientTape() as tape:
        loss = cdc(target.generator)
    assert float(loss) > 1e-4
    grads = dict(zip([w.path for w in target.generator.trainable_weights],
                     tape.gradient(loss, target.generator.trainable_weights)))
    for path in ("g_project/kernel", "g_project_bn/gamma", "g_up1_deconv/kernel", "g_up1_bn/beta"):
        assert grads[path] is not None and float(tf.reduce_max(tf.abs(grads[path]))) > 0, path
    # Layers after the last CDC layer get no gradient from it; the discriminator gets 0.
    assert grads["g_out_deconv/kernel"] is None
    assert float(cdc(target.discriminator)) == 0.0
    # Frozen source: its weights never change, and the loss does not move them.
    np.testing.assert_array_equal(cdc.source_activations.get_layer("g_project").kernel.numpy(),
                                  source.generator.get_layer("g_project").kernel.numpy())


def test_cdc_enters_the_generator_loss_during_training(source):
    images = _images()
    target, _ = rebuilt_target(source)
    _perturb(target)
    base, with_cdc = rebuilt_target(target)[0], rebuilt_target(target)[0]
    compile_for_training(base)
    compile_for_training(with_cdc, regularizers=[CDC(source, weight=1000.0)])
    ds = tf.data.Dataset.from_tensor_slices(images).batch(16)
    logs_base = base.fit(ds, epochs=1, verbose=0).history
    logs_cdc = with_cdc.fit(ds, epochs=1, verbose=0).history
    # Same data and noise: the CDC term is logged as G's penalty, and it moves G's weights elsewhere.
    assert logs_cdc["g_penalty"][0] > 0 and "g_penalty" not in logs_base
    kernel = "g_project/kernel"
    weights = [{w.path: w.numpy() for w in m.generator.weights}[kernel] for m in (base, with_cdc)]
    assert not np.allclose(*weights)


def test_cdc_runs_batch_norm_as_the_adversarial_path_and_leaves_its_averages(source):
    """Batch statistics (G's adversarial path is in training mode), on both generators; moving averages unchanged."""
    target, _ = rebuilt_target(source)
    cdc = CDC(source, weight=10.0, batch_size=6, anchors=0)
    compile_for_training(target, regularizers=[cdc])
    _perturb(target)
    before = float(cdc.loss())
    bn_layers = [layer for model in (target.generator, cdc.source_copy) for layer in model.layers
                 if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bn_layers) == 4
    for layer in bn_layers:  # moving averages nowhere near the batch's: inference mode would change the loss
        layer.moving_mean.assign(layer.moving_mean + 50.0)
        layer.moving_variance.assign(layer.moving_variance * 30.0)
    averages = [(layer.moving_mean.numpy(), layer.moving_variance.numpy()) for layer in bn_layers]
    assert float(cdc.loss()) == pytest.approx(before, rel=1e-5)
    assert float(tf.function(cdc.loss)()) == pytest.approx(before, rel=1e-5)
    for layer, (mean, variance) in zip(bn_layers, averages):  # the CDC pass did not move them, eager or traced
        np.testing.assert_array_equal(layer.moving_mean.numpy(), mean)
        np.testing.assert_array_equal(layer.moving_variance.numpy(), variance)
    # A batch-norm layer frozen in the target (inference mode) is frozen in the source copy too.
    target.generator.get_layer("g_up1_bn").trainable = False
    cdc.bind(target)
    assert not cdc.source_copy.get_layer("g_up1_bn").trainable and cdc.source_copy.get_layer("g_project_bn").trainable


def _anchor_target(source, anchors=3):
    target, _ = rebuilt_target(source)
    cdc = CDC(source, weight=1000.0, anchors=anchors)
    compile_for_training(target, regularizers=[cdc])
    return target, cdc.anchor_regions


def test_cdc_anchor_steps_draw_near_the_anchors_and_other_steps_from_the_prior(source):
    target, regions = _anchor_target(source, anchors=3)
    assert target.adversarial_schedule is regions and regions.anchors.shape == (3, 16)
    for step in range(8):
        target.g_optimizer.iterations.assign(step)
        z, prior = target.step_noise(64, 32).numpy(), target.sample_noise(64, 32).numpy()
        distances = np.linalg.norm(z[:, None] - regions.anchors.numpy()[None], axis=-1)  # [64, 3]
        if step % 4 == 0:  # within the 0.1 spread of an anchor (|N(0, 0.01 I_16)| ~ 0.4), every anchor used
            assert distances.min(axis=1).max() < 0.8 and set(distances.argmin(axis=1)) == {0, 1, 2}
            assert not np.allclose(z, prior)
        else:  # the usual prior, exactly
            np.testing.assert_array_equal(z, prior)
            assert distances.min(axis=1).mean() > 2.0
    target.g_optimizer.iterations.assign(4)
    np.testing.assert_array_equal(target.step_noise(64, 32), target.step_noise(64, 32))  # keyed by step
    with pytest.raises(ValueError, match="anchors"):
        CDC(source, anchors=-1)


def test_cdc_patch_level_loss_off_the_anchor_steps(source):
    target, regions = _anchor_target(source)
    assert target.cdc_patch_layer() == "d_block1_lrelu"
    real, fake = tf.constant(_images(4)), tf.constant(_images(4, seed=1))
    logits = regions.patch_logits(real)
    assert logits.shape == (4, 8, 8, 1)
    image_level = target.d_loss_fn(target.discriminator(real), target.discriminator(fake))
    softplus = lambda x: np.logaddexp(0, x)  # noqa: E731
    patch = (softplus(-logits.numpy()) + softplus(regions.patch_logits(fake).numpy())).reshape(4, -1).mean(1)
    target.g_optimizer.iterations.assign(1)
    np.testing.assert_allclose(regions.d_loss(image_level, real, fake), patch, rtol=1e-5)
    np.testing.assert_allclose(regions.g_loss(image_level[:, None][:, 0], fake),
                               softplus(-regions.patch_logits(fake).numpy()).reshape(4, -1).mean(1), rtol=1e-5)
    target.g_optimizer.iterations.assign(8)
    np.testing.assert_allclose(regions.d_loss(image_level, real, fake), image_level, rtol=1e-6)
    # The head trains with D's optimizer on patch steps and is held in checkpoints.
    target.g_optimizer.iterations.assign(0)
    assert any(part is regions.head for _, part in target.optimizer_groups("discriminator"))
    assert target.training_state()["cdc_patch_head"] is regions.head
    head = [w.numpy() for w in regions.head.weights]
    target.fit(tf.data.Dataset.from_tensor_slices(_images(32)).batch(16), epochs=1, verbose=0)
    assert all(not np.allclose(a, w.numpy()) for a, w in zip(head, regions.head.weights))


def test_cdc_with_anchors_resumes_exactly(tmp_path, source):
    """2 epochs, checkpoint, 2 more into a fresh model == 4 straight (anchors, patch head and noise included)."""
    data = tf.data.Dataset.from_tensor_slices(_images(32)).batch(8)  # 4 steps an epoch: anchor and patch steps

    def model():
        target, _ = rebuilt_target(source)
        compile_for_training(target, regularizers=[CDC(source, weight=100.0, anchors=4)])
        return target

    straight = model()
    Trainer(straight, verbose=0).fit(data, epochs=4)
    Trainer(model(), checkpoint_dir=str(tmp_path), verbose=0).fit(data, epochs=2)
    resumed = model()
    resumed.adversarial_schedule.head.kernel.assign(tf.zeros_like(resumed.adversarial_schedule.head.kernel))
    Trainer(resumed, checkpoint_dir=str(tmp_path), verbose=0).fit(data, epochs=4, resume=True)
    assert_weights_equal(straight, resumed, atol=1e-6)
    np.testing.assert_allclose(straight.adversarial_schedule.head.kernel, resumed.adversarial_schedule.head.kernel,
                               atol=1e-6)


def test_cdc_with_anchors_on_two_replicas_equals_one(two_cpu_strategy, source):
    """One step (an anchor step and a patch step) on two replicas equals one: noise sliced, losses scaled."""
    start = rebuilt_target(source)[0].get_weights()
    data = tf.data.Dataset.from_tensor_slices(_images(16)).batch(8)
    models = []
    for strategy in (tf.distribute.get_strategy(), two_cpu_strategy):
        with strategy.scope():
            target = create_model("dcgan", tiny=True, sync_batchnorm=True)
            target.set_weights(start)
            compile_for_training(target, strategy, optimizer="sgd", learning_rate=0.05,
                                 regularizers=[CDC(source, weight=10.0, anchors=4)])
        Trainer(target, strategy, verbose=0).fit(data, epochs=1)
        models.append(target)
    assert int(models[1].g_optimizer.iterations.numpy()) == 2
    assert_weights_equal(*models, atol=2e-6)


# ----------------------------------------------------------------------------------------------- EWC
def test_ewc_penalty_and_gradient_against_a_hand_computed_case(source):
    target, _ = rebuilt_target(source)
    paths = ["generator/g_project/kernel", "generator/g_out_deconv/bias"]
    rng = np.random.default_rng(0)
    fisher = {p: rng.uniform(0.1, 2.0, named_weights(source)[p].shape).astype("float32") for p in paths}
    ewc = EWC(source, weight=3.0, fisher=fisher)
    mean_fisher = np.mean(np.concatenate([f.ravel() for f in fisher.values()]))
    deltas = {p: rng.normal(0, 0.1, fisher[p].shape).astype("float32") for p in paths}
    for p in paths:
        named_weights(target)[p].assign(named_weights(source)[p].numpy() + deltas[p])
    expected = sum(0.5 * 3.0 * np.sum(fisher[p] / mean_fisher * deltas[p] ** 2) for p in paths)
    variables = [named_weights(target)[p] for p in paths]
    with tf.GradientTape() as tape:
        penalty = ewc(target.generator)
    assert float(penalty) == pytest.approx(expected, rel=1e-5)
    for p, grad in zip(paths, tape.gradient(penalty, variables)):
        np.testing.assert_allclose(grad.numpy(), 3.0 * fisher[p] / mean_fisher * deltas[p], rtol=1e-4, atol=1e-7)
    assert float(ewc(target.discriminator)) == 0.0


def test_fisher_is_the_mean_squared_per_sample_gradient_of_the_generator_loss(source):
    fisher = estimate_fisher(source, n_samples=3, seed=5)
    z = tf.random.stateless_normal([3, 16], seed=[5, 4242])
    kernel = source.generator.get_layer("g_project").kernel
    squares = []
    for i in range(3):
        with tf.GradientTape() as tape:
            logits = source.discriminator(source.generator(z[i:i + 1], training=False), training=False)
            loss = tf.reduce_mean(tf.nn.softplus(-logits))  # the non-saturating generator loss
        squares.append(tape.gradient(loss, kernel).numpy() ** 2)
    np.testing.assert_allclose(fisher["generator/g_project/kernel"], np.mean(squares, axis=0), rtol=1e-4, atol=1e-12)
    assert set(fisher) == {f"generator/{w.path}" for w in source.generator.trainable_weights}


# -------------------------------------------------------------------------------------- scale / shift
@pytest.mark.parametrize("kernels, output_layer", [(False, False), (True, False), (False, True)])
def test_scale_shift_trains_nothing_but_scales_and_shifts(source, kernels, output_layer):
    """As published, only the normalisation scale and shift train (and AdaFM's kernel modulation); the output
    layer only when asked."""
    model, report, summary = scale_shift_target(source, kernels=kernels, output_layer=output_layer)
    np.testing.assert_allclose(model.generate(Z), source.generate(Z), atol=1e-6)  # starts as the source
    expected = {"g_project_bn/gamma", "g_project_bn/beta", "g_up1_bn/gamma", "g_up1_bn/beta"} | \
        ({"g_up1_deconv/scale", "g_up1_deconv/shift"} if kernels else set()) | \
        ({"g_out_deconv/kernel", "g_out_deconv/bias"} if output_layer else set())
    assert {w.path for w in model.generator.trainable_weights} == expected
    compile_for_training(model)
    before = {w.path: w.numpy().copy() for w in model.generator.weights}
    d_before = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    model.fit(tf.data.Dataset.from_tensor_slices(_images()).batch(16), epochs=2, verbose=0)
    changed = {w.path for w in model.generator.weights if not np.array_equal(before[w.path], w.numpy())}
    statistics = {p for p in before if "moving_" in p}
    assert changed - statistics == expected  # every scale/shift moved, nothing else trainable did
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(d_before, model.discriminator.trainable_weights))
    if kernels:
        plain = fold_modulation(model)
        assert not plain.modulated_kernels
        np.testing.assert_allclose(plain.generate(Z), model.generate(Z), atol=1e-5)


def test_scale_shift_keeps_a_layer_adapted_to_new_channels_trainable(source):
    """A gray source moved to colour: its output layer was adapted (1 -> 3 channels) and trains, or the
    generator could never leave gray; nothing else but the scales and shifts does."""
    model, report, _ = scale_shift_target(source, channels=3)
    assert "generator/g_out_deconv/kernel" in report.by_status("adapted")
    assert {w.path for w in model.generator.trainable_weights} == {
        "g_project_bn/gamma", "g_project_bn/beta", "g_up1_bn/gamma", "g_up1_bn/beta", "g_out_deconv/kernel",
        "g_out_deconv/bias"}


# ---------------------------------------------------------------------------------- best checkpoint
class _Scripted(KeepBest):
    """KeepBest with scripted measurements (the real one measures KID)."""

    def __init__(self, values, **kwargs):
        super().__init__(_images(8), create_model("classifier", tiny=True), **kwargs)
        self.values = list(values)

    def measure(self):
        return self.values.pop(0)


def test_keep_best_restores_the_weights_of_the_lowest_measurement(source):
    model, _ = rebuilt_target(source)
    compile_for_training(model)
    snapshots = []

    class Recorder(keras.callbacks.Callback):  # the weights at each evaluation
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(model.generator.get_layer("g_project").kernel.numpy().copy())

    selector = _Scripted([5.0, 3.0, 1.0, 2.0, 4.0])
    recorder = Recorder()
    Trainer(model, callbacks=[recorder, selector], verbose=0).fit(
        tf.data.Dataset.from_tensor_slices(_images()).batch(16).repeat(), epochs=4, steps_per_epoch=2)
    assert [h["kid"] for h in selector.history] == [5.0, 3.0, 1.0, 2.0, 4.0]
    assert selector.best_step == 4 and selector.best_kid == 1.0  # after the second epoch (2 steps each)
    np.testing.assert_array_equal(model.generator.get_layer("g_project").kernel.numpy(), snapshots[1])


def test_keep_best_stops_after_patience(source):
    model, _ = rebuilt_target(source)
    compile_for_training(model)
    selector = _Scripted([1.0, 2.0, 3.0, 0.5, 0.1, 0.1], patience=2)
    history = Trainer(model, callbacks=[selector], verbose=0).fit(
        tf.data.Dataset.from_tensor_slices(_images()).batch(16).repeat(), epochs=5, steps_per_epoch=1)
    assert selector.stopped_early and history["step"] == [1, 2]
    assert selector.best_step == 0
    with pytest.raises(ValueError, match="patience"):
        _Scripted([], patience=0)


class _ByStep(KeepBest):
    """KeepBest whose measurement is a fixed function of the step (the same in an interrupted run)."""

    VALUES = {0: 5.0, 2: 3.0, 4: 1.0, 6: 2.0, 8: 0.5}

    def __init__(self, **kwargs):
        super().__init__(_images(8), create_model("classifier", tiny=True), **kwargs)

    def measure(self):
        return self.VALUES[self._step()]


def _selection_run(source, tmp_path, epochs, resume):
    model, _ = rebuilt_target(source)
    compile_for_training(model)
    selector = _ByStep(state_dir=str(tmp_path / "select"))
    trainer = Trainer(model, callbacks=[selector], verbose=0, checkpoint_dir=str(tmp_path / "ckpt"))
    trainer.fit(tf.data.Dataset.from_tensor_slices(_images()).batch(16).repeat(), epochs=epochs,
                steps_per_epoch=2, resume=resume)
    return model, selector


def test_keep_best_resumes_its_selection_with_the_run(source, tmp_path):
    """2 epochs, killed, resumed to 4 == 4 epochs at once: the same history, best step and restored weights,
    though the best (step 4) was found before the interruption; an evaluation lost between the checkpoint
    and its record is made at the resumed step."""
    whole, whole_selector = _selection_run(source, tmp_path / "whole", 4, resume=False)
    _selection_run(source, tmp_path / "cut", 2, resume=True)
    resumed, selector = _selection_run(source, tmp_path / "cut", 4, resume=True)
    assert selector.history == whole_selector.history and [h["step"] for h in selector.history] == [0, 2, 4, 6, 8]
    assert selector.best_step == whole_selector.best_step == 8
    for a, b in zip(resumed.weights, whole.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    # The best at step 4 kept across an interruption at step 6: its weights come back from the kept state.
    _ByStep.VALUES = {**_ByStep.VALUES, 8: 9.0}
    try:
        kept, _ = _selection_run(source, tmp_path / "best", 3, resume=True)
        best_weights = [w.numpy().copy() for w in kept.weights]  # restored at the end: step 4's
        meta = tmp_path / "best" / "select" / "keep_best.json"
        state = json.loads(meta.read_text())
        state["history"] = state["history"][:-1]  # killed after the step-6 checkpoint, before its evaluation
        meta.write_text(json.dumps(state))
        again, again_selector = _selection_run(source, tmp_path / "best", 4, resume=True)
    finally:
        _ByStep.VALUES = {**_ByStep.VALUES, 8: 0.5}
    assert [h["step"] for h in again_selector.history] == [0, 2, 4, 6, 8] and again_selector.best_step == 4
    for a, b in zip(again.weights, best_weights):
        np.testing.assert_array_equal(a.numpy(), b)


def test_keep_best_measures_another_selectors_samples_as_its_own(source):
    """A second selector on other held-out images reusing the first's samples measures what it would alone."""
    model, _ = rebuilt_target(source)
    extractor = create_model("classifier", tiny=True)
    first = KeepBest(_images(8), extractor, n_samples=16)
    alone = KeepBest(_images(12)[4:], first.extractor, n_samples=16)
    shared = KeepBest(_images(12)[4:], first.extractor, n_samples=16, samples_from=first)
    for selector in (first, alone, shared):
        selector.set_model(model)
    first.measure()
    assert shared.measure() == alone.measure()
    with pytest.raises(ValueError, match="samples_from"):
        KeepBest(_images(8), first.extractor, n_samples=8, samples_from=first)


# ------------------------------------------------------------------------------------ method strings
def test_methods_combine_by_name(source):
    assert parse_method("trgan_freezed_diffaugment") == parse_method("trgan+freeze_d+diffaugment")
    assert method_label("trgan+freeze_d+diffaugment+cdc") == "TrGAN + Freeze-D + DiffAugment + CDC"
    model, report = build_arm_model("trgan+freeze_d+diffaugment+cdc+ewc+l2_sp", source, 1)
    kinds = sorted(type(r).__name__ for r in model.regularizers)
    assert kinds == ["CDC", "EWC", "L2SP"] and model.augment is not None
    assert not model.discriminator.get_layer("d_block2_conv").trainable
    model, _ = build_arm_model("trgan+scale_shift+adafm", source, 3)
    assert model.modulated_kernels and model.channels == 3
    assert not model.generator.get_layer("g_project").trainable
    for bad, message in (("scratch+cdc", "needs a source"), ("trgan+magic", "no modifier 'magic'"),
                         ("finetune", "start with scratch or trgan"), ("trgan+ada+diffaugment", "not both")):
        with pytest.raises(ValueError, match=message):
            parse_method(bad)
