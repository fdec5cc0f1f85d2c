"""What each architecture must do beyond the shared harness."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model
from keras_transfer_gan.data import Vocabulary, load_dataset, load_text, text_dataset
from keras_transfer_gan.losses import gradient_penalty, kl_divergence
from keras_transfer_gan.models import WGANGP, ConditionalGAN
from keras_transfer_gan.training import Trainer, compile_for_training


# ------------------------------------------------------------------ WGAN-GP
def _linear_critic(weights):
    """critic(x) = <w, x> + 0.3: its gradient is w everywhere, so ||grad|| = ||w||."""
    inputs = keras.Input((2, 2, 1))
    x = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(1)
    critic = keras.Model(inputs, dense(x))
    dense.set_weights([weights.reshape(4, 1), np.array([0.3], np.float32)])
    return critic


def test_gradient_penalty_equals_hand_computed_value():
    w = np.array([3.0, 0.0, 4.0, 0.0], np.float32)  # ||w|| = 5 -> (5 - 1)^2 = 16
    critic = _linear_critic(w)
    rng = np.random.default_rng(0)
    real = tf.constant(rng.normal(size=(6, 2, 2, 1)), tf.float32)
    fake = tf.constant(rng.normal(size=(6, 2, 2, 1)), tf.float32)
    alpha = tf.constant(rng.uniform(size=6), tf.float32)
    np.testing.assert_allclose(gradient_penalty(critic, real, fake, alpha).numpy(), np.full(6, 16.0), rtol=1e-5)
    unit = _linear_critic(np.array([0.6, 0.8, 0.0, 0.0], np.float32))  # ||w|| = 1 -> 0
    np.testing.assert_allclose(gradient_penalty(unit, real, fake, alpha).numpy(), np.zeros(6), atol=1e-5)


def test_gradient_penalty_of_a_nonlinear_critic_per_sample():
    """critic(x) = sum_j tanh(<w_j, x>): its gradient depends on where it is taken, so only the right
    interpolation point (x_hat = real + alpha (fake - real), per sample) gives the hand-computed penalty."""
    rng = np.random.default_rng(1)
    w = rng.normal(0, 0.8, (4, 3)).astype(np.float32)
    inputs = keras.Input((2, 2, 1))
    dense = keras.layers.Dense(3, activation="tanh", use_bias=False)
    critic = keras.Model(inputs, keras.ops.sum(dense(keras.layers.Flatten()(inputs)), axis=-1))
    dense.set_weights([w])
    real = rng.normal(size=(5, 2, 2, 1)).astype(np.float32)
    fake = rng.normal(size=(5, 2, 2, 1)).astype(np.float32)
    alpha = np.array([0.0, 0.25, 0.5, 0.9, 1.0], np.float32)
    x_hat = (real + alpha[:, None, None, None] * (fake - real)).reshape(5, 4)
    grads = (1.0 - np.tanh(x_hat @ w) ** 2) @ w.T  # d/dx sum_j tanh(w_j . x), one row per sample
    expected = (np.linalg.norm(grads, axis=1) - 1.0) ** 2
    got = gradient_penalty(critic, tf.constant(real), tf.constant(fake), tf.constant(alpha)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert np.ptp(expected) > 0.05  # the samples' penalties differ: a wrong point or weight would show
    swapped = gradient_penalty(critic, tf.constant(real), tf.constant(fake), tf.constant(1.0 - alpha)).numpy()
    assert not np.allclose(swapped, expected, rtol=1e-2)


def test_wgan_gp_runs_n_critic_steps_per_generator_step():
    model = create_model("wgan_gp", tiny=True, n_critic=3, gp_weight=5.0)
    assert isinstance(model, WGANGP) and model.get_config()["gp_weight"] == 5.0
    compile_for_training(model)
    data = load_dataset("digits", image_size=16, batch_size=16, limit=32, drop_remainder=True)
    history = model.fit(data, epochs=1, verbose=0)
    assert int(model.g_optimizer.iterations) == 2 and int(model.d_optimizer.iterations) == 6
    assert history.history["gp"][0] > 0
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in model.discriminator.layers)
    with pytest.raises(ValueError, match="n_critic must be a positive integer"):
        WGANGP(n_critic=0)


def test_wgan_gp_interpolates_at_uniform_weights(monkeypatch):
    """The penalty's interpolation weights are uniform in [0, 1) per sample (Algorithm 1 of the paper): their
    range, mean and standard deviation over 4,096 samples (a normal or a constant draw fails), and a new draw
    at the next critic step."""
    import keras_transfer_gan.models.wgan_gp as wgan_module

    model = create_model("wgan_gp", tiny=True)
    compile_for_training(model)
    seen = []

    def spy(critic, real, fake, alpha):
        seen.append(np.asarray(alpha))
        return gradient_penalty(critic, real, fake, alpha)

    monkeypatch.setattr(wgan_module, "gradient_penalty", spy)
    real = tf.random.uniform([4096, 16, 16, 1], -1, 1)
    model.d_auxiliary_loss(real, -real, None, None, None)
    alpha = seen[0]
    assert alpha.shape == (4096,) and alpha.min() >= 0.0 and alpha.max() < 1.0
    assert abs(alpha.mean() - 0.5) < 0.02 and abs(alpha.std() - 12 ** -0.5) < 0.01
    model.d_optimizer.iterations.assign_add(1)
    assert not np.allclose(model.interpolation_weights(4096).numpy(), alpha)


# ------------------------------------------------------ conditional / ACGAN
def test_trained_acgan_classifies_its_own_samples_above_chance():
    keras.utils.set_random_seed(0)
    model = create_model("acgan", tiny=True, latent_dim=32, g_filters=16, d_filters=16)
    compile_for_training(model)
    data = load_dataset("digits", image_size=16, batch_size=64, labels=True, drop_remainder=True)
    model.fit(data, epochs=4, verbose=0)
    labels = np.arange(200) % 10
    predicted = model.classify(model.generate(200, labels=labels, seed=3)).argmax(-1)
    accuracy = float(np.mean(predicted == labels))
    assert accuracy > 0.3, accuracy  # chance is 0.1


def test_projection_discriminator_uses_labels():
    model = create_model("cgan", tiny=True)
    assert isinstance(model, ConditionalGAN) and model.mode == "projection"
    image = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 1)).astype("float32")
    a = model.discriminator([image, np.array([0, 0], "int32")])
    b = model.discriminator([image, np.array([0, 7], "int32")])
    assert a.numpy()[0] == pytest.approx(b.numpy()[0]) and a.numpy()[1] != pytest.approx(b.numpy()[1])


def test_conditional_generate_validates_labels():
    model = create_model("acgan", tiny=True, num_classes=4)
    assert model.generate(8).shape == (8, 16, 16, 1)  # labels cycle through the classes
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\)"):
        model.generate(2, labels=[0, 4])
    with pytest.raises(ValueError, match="3 labels for 2 samples"):
        model.generate(2, labels=[0, 1, 2])
    with pytest.raises(ValueError, match="labels=True"):
        compile_for_training(model)
        model.fit(load_dataset("digits", image_size=16, limit=16, batch_size=8), epochs=1, verbose=0)


# ---------------------------------------------------------------------- VAE
def test_kl_term_equals_closed_form():
    mean = np.array([[0.0, 1.0], [2.0, -1.0]], np.float32)
    log_var = np.array([[0.0, np.log(2.0)], [np.log(0.5), 0.0]], np.float32)
    var = np.exp(log_var)
    expected = 0.5 * np.sum(var + mean**2 - 1.0 - log_var, axis=-1)  # KL(N(m, v) || N(0, 1))
    np.testing.assert_allclose(kl_divergence(mean, log_var).numpy(), expected, rtol=1e-6)
    assert kl_divergence(np.zeros((1, 3), np.float32), np.zeros((1, 3), np.float32)).numpy()[0] == 0.0


def test_vae_tracks_both_terms_and_loss_is_their_sum():
    model = create_model("vae", tiny=True, beta=0.5)
    compile_for_training(model)
    history = model.fit(load_dataset("digits", image_size=16, batch_size=16, limit=64), epochs=2, verbose=0).history
    assert set(history) == {"loss", "reconstruction_loss", "kl_loss"}
    for i in range(2):
        assert history["loss"][i] == pytest.approx(
            history["reconstruction_loss"][i] + 0.5 * history["kl_loss"][i], rel=1e-5
        )
    images, _ = next(iter(load_dataset("digits", image_size=16, batch_size=4, shuffle=False))), None
    mean, log_var = model.encode(images)
    assert mean.shape == log_var.shape == (4, 8)
    assert model.reconstruct(images).shape == (4, 16, 16, 1)
    np.testing.assert_allclose(model.decode(mean), model.reconstruct(images), atol=1e-6)


def test_vae_feature_network_is_the_encoders_means():
    vae = create_model("vae", tiny=True)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 16, 16, 1)).astype("float32")
    np.testing.assert_allclose(vae.feature_network()(images), vae.encode(images)[0], atol=1e-6)
    with pytest.raises(ValueError, match="conditional VAE"):
        create_model("cvae", tiny=True).feature_network()


def test_cvae_decodes_by_label():
    model = create_model("cvae", tiny=True, num_classes=3)
    z = np.zeros((2, 8), "float32")
    assert not np.allclose(model.decode(z, labels=[0, 0])[0], model.decode(z, labels=[0, 2])[1])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        model.decode(z, labels=[0, 3])


# --------------------------------------------------------------------- text
def test_vocabulary_unknown_token_and_round_trip():
    vocab = Vocabulary.from_text("hello world")
    assert vocab.decode(vocab.encode("hello")) == "hello"
    assert vocab.encode("z")[0] == 0 and "z" not in vocab
    assert Vocabulary.from_config(vocab.get_config()) == vocab
    with pytest.raises(ValueError, match="empty"):
        Vocabulary.from_text("")


def test_char_lstm_learns_a_pattern_and_generates_it():
    keras.utils.set_random_seed(0)
    text = "abcd" * 600
    vocab = Vocabulary.from_text(text)
    model = create_model("char_lstm", vocabulary=vocab, embedding_dim=8, units=32)
    compile_for_training(model, learning_rate=1e-2)
    history = model.fit(text_dataset(text, vocab, seq_len=16, batch_size=16), epochs=10, verbose=0).history
    assert set(history) == {"loss", "accuracy", "perplexity"}
    assert history["accuracy"][-1] > 0.9
    assert history["perplexity"][-1] == pytest.approx(np.exp(history["loss"][-1]), rel=1e-4)
    assert model.generate("ab", length=10, temperature=0) == "abcdabcdabcd"
    sample = model.generate("ab", length=20, temperature=1.0, seed=5)
    assert sample == model.generate("ab", length=20, temperature=1.0, seed=5) and len(sample) == 22


def test_text_corpora_source_and_target_differ():
    source, target = load_text("pydocs"), load_text("pylicense")
    assert len(source) > 200_000 and 5_000 < len(target) < len(source) / 10
    assert "Return" in source and "LICENSE" in target.upper()
    # Different domains: the target's words are mostly not the source's most common ones.
    assert source.count("def ") + source.count("(") > 1000 and target.count("(") < len(target) / 50


def test_load_text_file_tfds_and_errors(tmp_path):
    import tensorflow_datasets as tfds

    path = tmp_path / "t.txt"
    path.write_text("some text", encoding="utf-8")
    assert load_text(str(path)) == "some text"
    assert load_text("pydocs", max_chars=100) == load_text("pydocs")[:100]
    with tfds.testing.mock_data(num_examples=3):
        assert isinstance(load_text("tfds:tiny_shakespeare", data_dir=str(tmp_path)), str)
    with pytest.raises(ValueError, match="unknown corpus"):
        load_text("shakespeare")


# -------------------------------------------------------- feature backbone
def test_feature_generator_keeps_backbone_frozen_and_trains_the_rest():
    keras.utils.set_random_seed(0)
    model = create_model("feature_generator", tiny=True, channels=1)  # VGG19 without downloaded weights
    assert [l.name for l in model.backbone.layers][-1] == "block2_pool"
    compile_for_training(model)
    frozen = [w.numpy().copy() for w in model.backbone.weights]
    head = [w.numpy().copy() for w in model.generator.get_layer("g_feature_proj").weights]
    model.fit(load_dataset("digits", image_size=32, batch_size=8, limit=16), epochs=1, verbose=0)
    for before, w in zip(frozen, model.backbone.weights):
        np.testing.assert_array_equal(before, w.numpy())
    assert any(not np.allclose(b, w.numpy()) for b, w in zip(head, model.generator.get_layer("g_feature_proj").weights))


def test_feature_generator_partial_freeze_and_loss_mix():
    model = create_model("feature_generator", tiny=True, frozen_blocks=1, adv_weight=0.25)
    trainable = {l.name for l in model.backbone.layers if l.trainable and l.weights}
    assert trainable == {"block2_conv1", "block2_conv2"}
    assert model.adv_weight == 0.25
    with pytest.raises(ValueError, match=r"adv_weight must be in \[0, 1\]"):
        create_model("feature_generator", tiny=True, adv_weight=1.5)
    # G's loss is adv_weight * L_GAN + (1 - adv_weight) * L_rec, each term computed on its own here.
    compile_for_training(model)
    real = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)), tf.float32)
    z = model.sample_noise(4, stream=32)  # the noise the step draws (keyed by the step)
    fake = model.generator([z, real], training=True)
    l_gan = model.g_loss_fn(model.discriminator(model.d_input(fake, 40), training=True)).numpy()
    l_rec = np.mean(np.abs(fake.numpy() - real.numpy()), axis=(1, 2, 3))
    logs = model.generator_step(real, None)
    np.testing.assert_allclose(float(logs["g_loss"]), np.mean(0.25 * l_gan + 0.75 * l_rec), rtol=1e-4)
    np.testing.assert_allclose(float(logs["rec_loss"]), np.mean(l_rec), rtol=1e-4)


# ---------------------------------------------------------------------- EMA
def test_ema_follows_the_generator_and_is_used_for_sampling(two_cpu_strategy):
    keras.utils.set_random_seed(0)
    with two_cpu_strategy.scope():
        model = create_model("dcgan", tiny=True, ema_decay=0.75, replicas=2)
        compile_for_training(model, two_cpu_strategy)
    start = [w.numpy().copy() for w in model.generator.weights]
    np.testing.assert_array_equal(model.generate(2), keras.ops.convert_to_numpy(model.generator(
        tf.random.stateless_normal([2, 16], seed=[0, 7919]))))
    data = load_dataset("digits", image_size=16, batch_size=16, limit=16, shuffle=False)
    Trainer(model, two_cpu_strategy, verbose=0).fit(data, epochs=1)
    trainable = {id(w) for w in model.generator.trainable_weights}
    for w0, w, ema in zip(start, model.generator.weights, model.generator_ema.weights):
        expected = 0.75 * w0 + 0.25 * w.numpy() if id(w) in trainable else w.numpy()
        np.testing.assert_allclose(ema.numpy(), expected, atol=1e-6)
    z = tf.random.stateless_normal([2, 16], seed=[0, 7919])
    np.testing.assert_allclose(model.generate(z), model.generator_ema(z).numpy(), atol=1e-6)
    assert not np.allclose(model.generate(z), model.generator(z).numpy())


@pytest.mark.parametrize("name", ["dcgan", "wgan_gp", "acgan", "cgan", "feature_generator"])
def test_spectral_norm_is_a_discriminator_option_for_every_gan(name):
    model = create_model(name, tiny=True, spectral_norm=True)
    wrapped = [l for l in model.discriminator.layers if isinstance(l, keras.layers.SpectralNormalization)]
    assert len(wrapped) >= 2 and model.get_config()["spectral_norm"] is True


# ------------------------------------------------------ feature backbone weights
def test_feature_generator_reads_vgg19_weights_from_a_file(tmp_path):
    keras.utils.set_random_seed(3)
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = str(tmp_path / "vgg19_notop.weights.h5")
    vgg.save_weights(path)
    model = create_model("feature_generator", backbone_weights=path, feature_blocks=2, image_size=32, latent_dim=8,
                         g_filters=8, d_filters=8)
    for name in ("block1_conv1", "block2_conv2"):
        for ours, theirs in zip(model.backbone.get_layer(name).weights, vgg.get_layer(name).weights):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    # Images in [-1, 1] reach VGG19 as keras.applications' preprocess_input sees [0, 255] RGB.
    images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype("float32")
    g = model.generator
    preprocess = keras.Model(g.get_layer("condition").output, g.get_layer("b_preprocess").output)
    expected = keras.applications.vgg19.preprocess_input((images + 1.0) * 127.5)
    np.testing.assert_allclose(preprocess(images).numpy(), expected, atol=1e-3)
    assert model.get_config()["backbone_weights"] is None  # the weights travel in the saved model


def test_feature_generator_without_imagenet_weights_is_one_line(monkeypatch, tmp_path):
    def offline(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/.../vgg19_notop.h5: None -- [Errno -2]")

    monkeypatch.setattr(keras.applications, "VGG19", offline)
    with pytest.raises(ValueError, match="pass backbone_weights=None") as info:
        create_model("feature_generator", image_size=32)
    assert "\n" not in str(info.value) and "ImageNet" in str(info.value)
    with pytest.raises(ValueError, match="a weights file"):
        create_model("feature_generator", image_size=32, backbone_weights=str(tmp_path / "missing.h5"))


# ---------------------------------------------------------------------- 128 px
TINY_128 = {"dcgan": dict(g_filters=4, d_filters=4), "wgan_gp": dict(g_filters=4, d_filters=4, n_critic=1),
            "acgan": dict(g_filters=4, d_filters=4), "cgan": dict(g_filters=4, d_filters=4),
            "vae": dict(filters=4), "cvae": dict(filters=4)}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TINY_128))
def test_128_pixels_fit_sample_and_export(name, tmp_path):
    """The DCGAN family at 128x128: a tiny configuration fits, samples and exports (SavedModel and TFLite)."""
    from keras_transfer_gan.export import export_saved_model, export_tflite
    from keras_transfer_gan.registry import get_entry

    keras.utils.set_random_seed(0)
    model = create_model(name, tiny=True, image_size=128, **TINY_128[name])
    compile_for_training(model)
    data = load_dataset("digits", image_size=128, batch_size=8, limit=16, drop_remainder=True,
                        labels=get_entry(name).consumes == "labelled_images")
    history = model.fit(data, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values())
    assert model.sample(3, seed=0).shape == (3, 128, 128, 1)
    assert os.path.isdir(export_saved_model(model, str(tmp_path / "serving"), name))
    report = export_tflite(model, str(tmp_path / f"{name}.tflite"))
    assert report.max_abs_error < 1e-4, report
