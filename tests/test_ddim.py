"""DDIM on a small U-Net: the schedule, the parameterisations and the sampler by mechanism, and the model as
every generator of the zoo is held to (the shared harness runs fit, two replicas and `.keras` for it too)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model
from keras_transfer_gan.layers import SinusoidalEmbedding
from keras_transfer_gan.models.ddim import diffusion_schedule
from keras_transfer_gan.training import Trainer, compile_for_training
from tests.helpers import assert_weights_equal

RNG = np.random.default_rng(0)


def _images(n=16, size=16, channels=1):
    return RNG.uniform(-1, 1, (n, size, size, channels)).astype("float32")


def test_cosine_schedule_in_angle_form():
    times = tf.linspace(0.0, 1.0, 11)
    noise, signal = diffusion_schedule(times, 0.02, 0.95)
    np.testing.assert_allclose(noise ** 2 + signal ** 2, 1.0, atol=1e-6)
    assert float(signal[0]) == pytest.approx(0.95, abs=1e-6) and float(signal[-1]) == pytest.approx(0.02, abs=1e-6)
    angles = np.arccos(signal.numpy())
    np.testing.assert_allclose(np.diff(angles), np.diff(angles)[0], atol=1e-5)  # the angle moves linearly
    assert np.all(np.diff(noise.numpy()) > 0)


def test_sinusoidal_embedding_against_numpy():
    layer = SinusoidalEmbedding(8, 1.0, 1000.0)
    x = np.array([0.0, 0.25, 0.9], np.float32)
    freqs = np.exp(np.linspace(np.log(1.0), np.log(1000.0), 4))
    expected = np.concatenate([np.sin(2 * np.pi * freqs * x[:, None]), np.cos(2 * np.pi * freqs * x[:, None])], -1)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="even"):
        SinusoidalEmbedding(7)


def test_the_noise_level_embedding_keeps_float32_phases_under_mixed_bfloat16():
    """A bfloat16 noise variance (8-bit mantissa) times 2 pi * 1000 is a phase error of radians: the embedding
    was noise and the whole denoiser 36% off its float32 twin. Both now compute in float32."""
    from keras_transfer_gan.training.precision import precision_scope

    keras.utils.set_random_seed(0)
    with precision_scope("mixed_bfloat16"):
        mixed = create_model("ddim", image_size=16, widths=(16, 32), embedding_dims=16)
    plain = create_model("ddim", image_size=16, widths=(16, 32), embedding_dims=16)
    rng = np.random.default_rng(1)  # every weight perturbed: zero-initialised output layers hide nothing
    weights = [w + 0.05 * rng.standard_normal(w.shape).astype(w.dtype) for w in plain.sampler.get_weights()]
    mixed.sampler.set_weights(weights)
    plain.sampler.set_weights(weights)
    assert mixed.sampler.get_layer("dn_level_sin").compute_dtype == "float32"
    level = np.array([0.1, 0.37, 0.71, 0.99], np.float32)
    x = _images(4)

    def embedding(model):
        return keras.Model(model.sampler.inputs, model.sampler.get_layer("dn_level_sin").output)([x, level])

    np.testing.assert_allclose(embedding(mixed), embedding(plain), atol=1e-5)
    out_mixed, out_plain = mixed.sampler([x, level]).numpy(), plain.sampler([x, level]).numpy()
    assert np.max(np.abs(out_mixed - out_plain)) < 0.05 * np.max(np.abs(out_plain))  # rounding only


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_the_training_target_gives_back_the_image_and_the_noise(prediction):
    """What the loss asks the denoiser to predict (eps, or v = s eps - n x) is what `split_prediction` turns
    back into exactly the clean image and its noise; the loss of that prediction is zero."""
    model = create_model("ddim", tiny=True, prediction=prediction)
    images = tf.constant(_images(4))
    noisy, eps, noise, signal = model.noised(images, tf.constant([3, 4], tf.int64))
    n, s = noise[:, None, None, None], signal[:, None, None, None]
    np.testing.assert_allclose(noisy, s * images + n * eps, atol=1e-6)
    target = eps if prediction == "eps" else s * eps - n * images
    clean, estimated = model.split_prediction(target, noisy, noise, signal)
    np.testing.assert_allclose(clean, images, atol=1e-4)
    np.testing.assert_allclose(estimated, eps, atol=1e-4)


def test_ddim_steps_follow_the_deterministic_trajectory_of_an_exact_denoiser():
    """With a denoiser that knows the one training image x*, every DDIM step (eta = 0) lands on
    ``s_t x* + n_t eps0``: the same noise direction throughout, the clean estimate exact; eta = 1 keeps the
    estimate exact and adds fresh noise."""
    model = create_model("ddim", tiny=True)
    target = tf.constant(_images(1))
    model.denoise = lambda x, n, s, labels=None, **kw: (
        tf.broadcast_to(target, tf.shape(x)), (x - s[:, None, None, None] * target) / n[:, None, None, None])
    eps0 = tf.constant(RNG.standard_normal((2, 16, 16, 1)).astype("float32"))
    noise, signal = model.schedule(tf.ones([2]))
    x = signal[:, None, None, None] * target + noise[:, None, None, None] * eps0
    steps = 5
    for i in range(steps):
        x, clean = model.ddim_step(x, tf.constant(i), tf.constant(steps), None, tf.constant(0.0), 0)
        n, s = model.schedule(tf.fill([2], 1.0 - (i + 1) / steps))
        np.testing.assert_allclose(x, s[:, None, None, None] * target + n[:, None, None, None] * eps0, atol=1e-4)
        np.testing.assert_allclose(clean, np.broadcast_to(target, (2, 16, 16, 1)), atol=1e-5)
    stochastic, _ = model.ddim_step(x, tf.constant(1), tf.constant(steps), None, tf.constant(1.0), 0)
    deterministic, _ = model.ddim_step(x, tf.constant(1), tf.constant(steps), None, tf.constant(0.0), 0)
    assert float(tf.reduce_max(tf.abs(stochastic - deterministic))) > 1e-3


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_the_in_graph_sampler_equals_the_python_loop_and_does_not_retrace_per_step_count(eta):
    model = create_model("ddim", tiny=True)
    graph = model.sample(5, seed=4, steps=4, eta=eta)
    eager = model.reverse_diffusion_eager(model.initial_noise(5, 4), 4, eta=eta, seed=4).numpy()
    np.testing.assert_allclose(graph, eager, atol=1e-5)
    assert graph.shape == (5, 16, 16, 1) and graph.min() >= -1 and graph.max() <= 1
    model.sample(5, seed=4, steps=7, eta=eta)
    assert model._compiled_sampler().experimental_get_tracing_count() == 1
    assert not np.allclose(model.sample(5, seed=5, steps=4, eta=eta), graph)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        model.sample(2, steps=0)


def test_fit_lowers_the_loss_and_the_ema_follows():
    model = create_model("ddim", tiny=True, ema_decay=0.5)
    compile_for_training(model, learning_rate=2e-3)
    images = np.repeat(_images(2), 16, axis=0)  # two images: a denoiser can learn them
    before = [w.numpy().copy() for w in model.denoiser_ema.weights]
    history = model.fit(tf.data.Dataset.from_tensor_slices(images).shuffle(32, seed=0).batch(16), epochs=12,
                        verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(before, model.denoiser_ema.weights))
    assert model.sampler is model.denoiser_ema


def test_the_ema_warms_up_so_a_short_fine_tuning_run_samples_what_it_trained():
    """`ema_warmup`: after optimizer step k the EMA is ``d * ema + (1 - d) * weights`` with
    ``d = min(ema_decay, (1 + k) / (10 + k))`` (2/11 after the first step); without it, ``ema_decay``."""
    data = tf.data.Dataset.from_tensor_slices(_images(8)).batch(8)
    for warmup, expected in ((True, [2 / 11, 3 / 12]), (False, [0.999, 0.999])):
        model = create_model("ddim", tiny=True, ema_warmup=warmup)
        assert model.get_config()["ema_warmup"] is warmup
        compile_for_training(model, learning_rate=1e-2)
        model.denoiser_ema.set_weights([w + 1.0 for w in model.denoiser.get_weights()])  # a source far from it
        assert len(model.denoiser.trainable_weights) == len(model.denoiser.weights)
        for decay in expected:
            average = [w.numpy().copy() for w in model.denoiser_ema.weights]
            model.fit(data, epochs=1, verbose=0)
            for a, w, e in zip(average, model.denoiser.weights, model.denoiser_ema.weights):
                np.testing.assert_allclose(e.numpy(), decay * a + (1 - decay) * w.numpy(), rtol=1e-5, atol=1e-6)


def test_fine_tuning_starts_from_the_sources_ema_weights():
    """The diffusion task's target (whole or LoRA) starts its trained network and its EMA from the source's EMA
    weights, the ones that sample, not the last raw step's; the source is left as it was; a source without an
    EMA is used as it is."""
    from keras_transfer_gan.tasks import get_task
    from keras_transfer_gan.tasks.diffusion import averaged_start

    source = create_model("ddim", tiny=True)
    source.denoiser_ema.set_weights([w + 0.5 for w in source.denoiser.get_weights()])
    raw = [w.copy() for w in source.denoiser.get_weights()]
    task = get_task("diffusion")
    for lora in (0, 2):
        target, _, _ = task.build_target(source, task.options(lora=lora))
        for network in (target.denoiser, target.denoiser_ema):
            base = [v.numpy() for v in network.weights if "lora_kernel" not in v.path]
            assert len(base) == len(source.denoiser_ema.weights)
            for got, want in zip(base, source.denoiser_ema.get_weights()):
                np.testing.assert_array_equal(got, want)
    for got, want in zip(source.denoiser.get_weights(), raw):
        np.testing.assert_array_equal(got, want)
    plain = create_model("ddim", tiny=True, ema_decay=None)
    assert averaged_start(plain) is plain


@pytest.mark.slow
def test_resume_continues_exactly(tmp_path):
    data = tf.data.Dataset.from_tensor_slices(_images(32)).batch(8)

    def run(epochs, directory, resume):
        keras.utils.set_random_seed(0)
        model = create_model("ddim", tiny=True)
        compile_for_training(model)
        Trainer(model, checkpoint_dir=str(directory), verbose=0).fit(data, epochs=epochs, resume=resume)
        return model

    whole = run(4, tmp_path / "whole", False)
    run(2, tmp_path / "cut", True)
    resumed = run(4, tmp_path / "cut", True)
    assert_weights_equal(whole, resumed, atol=1e-5)


def test_class_conditional_samples_by_label():
    from tests.helpers import spread_weights

    model = create_model("cddim", tiny=True, prediction="v", ema_decay=None)
    compile_for_training(model)
    images, labels = _images(16), np.arange(16) % 10
    model.fit(tf.data.Dataset.from_tensor_slices((images, labels)).batch(8), epochs=1, verbose=0)
    spread_weights(model, seed=2)  # the zero-initialised output convolution made non-zero
    a = model.sample(4, conditions=[1, 1, 2, 2], seed=0, steps=2)
    b = model.sample(4, conditions=[3, 3, 4, 4], seed=0, steps=2)
    assert a.shape == (4, 16, 16, 1) and not np.allclose(a, b)
    np.testing.assert_allclose(a, model.sample(4, conditions=[1, 1, 2, 2], seed=0, steps=2))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 10\)"):
        model.sample(2, conditions=[0, 10])
    with pytest.raises(ValueError, match="unconditional"):
        create_model("ddim", tiny=True).sample(2, conditions=[0, 1])


def test_signatures_run_the_sampler_and_the_denoiser():
    model = create_model("ddim", tiny=True, prediction="v")
    signatures = model.serving_signatures()
    assert set(signatures) == {"denoise", "sample", "serving_default", "generate_uint8"}
    images = signatures["sample"].fn(tf.constant(3), tf.constant(2), tf.constant(9))["images"].numpy()
    expected = model.reverse_diffusion_eager(tf.random.stateless_normal([3, 16, 16, 1], seed=[9, 7919]), 2,
                                             seed=9).numpy()
    np.testing.assert_allclose(images, expected, atol=1e-5)
    as_uint8 = signatures["generate_uint8"].fn(tf.constant(3), tf.constant(2), tf.constant(9))["images"].numpy()
    assert as_uint8.dtype == np.uint8 and np.abs(as_uint8 / 127.5 - 1 - images).max() <= 1 / 127.5 + 1e-6
    clean = _images(2)
    out = signatures["denoise"].fn(tf.constant(clean), tf.constant([0.3, 0.6]))
    assert out["prediction"].shape == (2, 16, 16, 1) and out["denoised"].shape == (2, 16, 16, 1)
    probe = model.probe_inputs(signatures["denoise"], n=4)
    assert probe["noise_level"].min() > 0 and probe["noise_level"].max() < 1


def test_default_size_and_constructor_errors():
    model = create_model("ddim")
    assert 0.5e6 <= model.denoiser.count_params() <= 2e6
    assert any("attn" in layer.name for layer in model.denoiser.layers)  # self-attention at 8x8
    for bad, message in (({"prediction": "x0"}, "prediction must be one of"), ({"image_size": 48}, "image_size"),
                         ({"widths": (8, 8, 8, 8, 8)}, "widths must give"), ({"num_classes": 1}, "num_classes"),
                         ({"min_signal_rate": 0.96}, "min_signal_rate")):
        with pytest.raises(ValueError, match=message):
            create_model("ddim", **bad)


@pytest.mark.slow
def test_lora_trains_only_the_factors_and_merges_back_for_export(tmp_path):
    """Keras' LoRA on every convolution and dense layer (attention projections too): the target starts as the
    source, only the factors move in training, the merged plain model computes what the LoRA model does, and
    the LoRA model round-trips `.keras`."""
    from keras_transfer_gan.transfer import lora_target, merge_lora
    from tests.helpers import spread_weights

    source = spread_weights(create_model("ddim", tiny=True), seed=1)  # the zero-initialised convs made non-zero
    source.denoiser_ema.set_weights(source.denoiser.get_weights())
    target, report, summary = lora_target(source, rank=2)
    # The same up to rounding (the eps estimate at t = 1 is divided by the signal rate, 0.02).
    np.testing.assert_allclose(target.sample(3, seed=1, steps=2), source.sample(3, seed=1, steps=2), atol=1e-4)
    kinds = (keras.layers.Conv2D, keras.layers.Dense, keras.layers.EinsumDense)
    expected = [layer for layer in target.denoiser._flatten_layers(include_self=False) if isinstance(layer, kinds)]
    lora = target.lora_layers()
    assert len(lora) == len(expected) and {id(x) for x in lora} == {id(x) for x in expected}
    assert all(layer.lora_enabled for layer in expected)
    assert any(isinstance(layer, keras.layers.EinsumDense) for layer in expected)  # the attention's projections
    assert {v.path.rsplit("/", 1)[-1] for v in target.trainable_weights} == {"lora_kernel_a", "lora_kernel_b"}
    assert summary.parts["denoiser"]["trainable"] == sum(int(np.prod(v.shape)) for v in target.trainable_weights)
    compile_for_training(target, learning_rate=1e-2)
    before = {v.path: v.numpy().copy() for v in target.denoiser.weights}
    target.fit(tf.data.Dataset.from_tensor_slices(_images(16)).batch(8), epochs=2, verbose=0)
    moved = {p for p, v in before.items()
             if not np.allclose(v, {w.path: w.numpy() for w in target.denoiser.weights}[p])}
    assert moved and all("lora_kernel" in p for p in moved), moved
    merged = merge_lora(target)
    assert merged.lora_rank == 0 and not any("lora" in v.path for v in merged.weights)
    for network in ("denoiser", "denoiser_ema"):
        probe = [tf.constant(_images(2)), tf.constant([0.3, 0.8])]
        np.testing.assert_allclose(getattr(merged, network)(probe), getattr(target, network)(probe), atol=1e-4)
    target.save(tmp_path / "lora.keras")
    again = keras.models.load_model(tmp_path / "lora.keras")
    np.testing.assert_allclose(again.sample(3, seed=1, steps=2), target.sample(3, seed=1, steps=2), atol=1e-4)
    with pytest.raises(ValueError, match="DCGAN does not support lora"):
        lora_target(create_model("dcgan", tiny=True))


def test_ktg_sample_takes_steps_and_eta_for_a_diffusion_model(tmp_path):
    """`ktg sample --steps --eta` as a user runs it (a subprocess): the grid is written; --steps given to a GAN
    is a one-line error naming what that model takes."""
    import subprocess
    import sys

    create_model("ddim", tiny=True).save(str(tmp_path / "d.keras"))
    create_model("dcgan", tiny=True).save(str(tmp_path / "g.keras"))
    run = [sys.executable, "-m", "keras_transfer_gan.cli", "sample", "--n", "4"]
    done = subprocess.run(run + ["--model", str(tmp_path / "d.keras"), "--out", str(tmp_path / "s.png"),
                                 "--steps", "3", "--eta", "0.5"], capture_output=True, text=True)
    assert done.returncode == 0 and (tmp_path / "s.png").stat().st_size > 0, done.stderr[-800:]
    bad = subprocess.run(run + ["--model", str(tmp_path / "g.keras"), "--out", str(tmp_path / "g.png"),
                                "--steps", "3"], capture_output=True, text=True)
    assert bad.returncode != 0 and "--steps: DCGAN does not take steps (its sample options: none)" in bad.stderr


@pytest.mark.slow
def test_adapters_start_near_the_source_and_train_alone(tmp_path):
    """DPMs-ANT's adaptors beside every residual block and the output: the target first computes (nearly)
    what the source did, only the adaptors' weights move in training, they are a small part of the model, and
    the adapted model round-trips `.keras`."""
    from keras_transfer_gan.transfer import adapter_target
    from tests.helpers import spread_weights

    source = spread_weights(create_model("ddim", tiny=True, ema_decay=None), seed=1)
    target, report, summary = adapter_target(source, dim=8, patch=4)
    probe = [tf.constant(_images(2)), tf.constant([0.3, 0.8])]
    # Near, not equal: an adaptor's last norm rescales its tiny activations before its N(0, 2e-4) conv.
    np.testing.assert_allclose(target.denoiser(probe), source.denoiser(probe), atol=2e-2)
    adapters = [layer for layer in target.denoiser.layers if target.is_adapter_layer(layer.name)]
    blocks = {layer.name.split("_adapter")[0] for layer in adapters}
    residual = {layer.name[: -len("_conv1")] for layer in target.denoiser.layers if layer.name.endswith("_conv1")}
    assert blocks == residual | {"dn_out"}  # one beside every residual block and the output layer
    trainable = {v.path.split("/")[0] for v in target.trainable_weights}
    assert trainable and all(target.is_adapter_layer(n) for n in trainable)
    share = sum(int(np.prod(v.shape)) for v in target.trainable_weights) / target.denoiser.count_params()
    assert share < 0.5  # on the tiny model; about 2% on the default one
    compile_for_training(target, learning_rate=1e-2)
    before = {v.path: v.numpy().copy() for v in target.denoiser.weights}
    target.fit(tf.data.Dataset.from_tensor_slices(_images(16)).batch(8), epochs=2, verbose=0)
    after = {w.path: w.numpy() for w in target.denoiser.weights}
    moved = {p for p, v in before.items() if not np.allclose(v, after[p])}
    assert moved and all(target.is_adapter_layer(p.split("/")[0]) for p in moved), moved
    target.save(tmp_path / "adapted.keras")
    again = keras.models.load_model(tmp_path / "adapted.keras")
    np.testing.assert_allclose(again.denoiser(probe), target.denoiser(probe), atol=1e-5)


def test_pairwise_similarity_loss_against_numpy_and_zero_at_the_source():
    """DDPM-PA's loss: per image the softmax of its cosine similarities to the other images, KL(source ||
    adapted), checked against NumPy; zero for a model that is still its source; its gradient reaches the
    adapted denoiser only; it enters the training loss and is logged."""
    from keras_transfer_gan.transfer import PairwiseSimilarity, derive_model
    from keras_transfer_gan.transfer.regularizers.pairwise_similarity import pairwise_kl

    a, b = _images(4, 4), _images(4, 4)

    def dist(x):
        flat = x.reshape(4, -1) / np.linalg.norm(x.reshape(4, -1), axis=1, keepdims=True)
        sim = flat @ flat.T
        np.fill_diagonal(sim, -np.inf)
        e = np.exp(sim - sim.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    p, q = dist(a), dist(b)
    mask = ~np.eye(4, dtype=bool)
    expected = np.where(mask, p * (np.log(p + 1e-12) - np.log(q + 1e-12)), 0).sum(axis=1)
    np.testing.assert_allclose(pairwise_kl(a, b), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(pairwise_kl(a, a), 0.0, atol=1e-6)

    source = create_model("ddim", tiny=True, ema_decay=None, prediction="v")
    target, _ = derive_model(source)
    compile_for_training(target, pairwise=PairwiseSimilarity(source, weight=10.0))
    images = tf.constant(_images(6))
    _, tracked = target.per_example_losses(images, None)
    np.testing.assert_allclose(tracked["pairwise_loss"], 0.0, atol=1e-5)  # the target is still the source
    target.fit(tf.data.Dataset.from_tensor_slices(_images(24)).batch(6), epochs=2, verbose=0)
    with tf.GradientTape() as tape:
        _, tracked = target.per_example_losses(images, None)
        term = tf.reduce_mean(tracked["pairwise_loss"])
    assert float(term) > 0
    grads = tape.gradient(term, target.denoiser.trainable_variables + target.pairwise.network.variables)
    n = len(target.denoiser.trainable_variables)
    assert any(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads[:n])
    assert all(g is None for g in grads[n:])  # the frozen source takes no gradient
    assert "pairwise_loss" in target.fit(tf.data.Dataset.from_tensor_slices(_images(12)).batch(6), epochs=1,
                                         verbose=0).history
    with pytest.raises(ValueError, match="image_shape"):
        compile_for_training(create_model("ddim", tiny=True, channels=3),
                             pairwise=PairwiseSimilarity(source))
