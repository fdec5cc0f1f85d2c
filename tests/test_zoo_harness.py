"""One harness for every registered architecture: build, fit, 2-replica Trainer step, .keras round trip."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model, list_models
from keras_transfer_gan.data import Vocabulary, load_dataset, text_dataset
from keras_transfer_gan.training import Trainer, compile_for_training

TEXT = "the quick brown fox jumps over the lazy dog. " * 40
LABELLED = {"acgan", "cgan", "cvae", "classifier"}


def _build(name, channels=1, **overrides):
    if name == "char_lstm":
        overrides["vocabulary"] = Vocabulary.from_text(TEXT)
    else:
        overrides["channels"] = channels
    return create_model(name, tiny=True, **overrides)


def _data(model, name, channels=1, batch=16):
    if name == "char_lstm":
        return text_dataset(TEXT, model.vocabulary, seq_len=16, batch_size=batch, shuffle=False)
    spec = "digits" if channels == 1 else "digits_m"
    return load_dataset(spec, image_size=model.image_size, batch_size=batch, limit=4 * batch,
                        labels=name in LABELLED, shuffle=False, drop_remainder=True)


def _probe(model, name):
    """Deterministic outputs to compare before and after a round trip."""
    rng = np.random.default_rng(0)
    if name == "char_lstm":
        return model(tf.constant(model.vocabulary.encode("the lazy fox")[None]))
    if name == "feature_generator":
        return model.generate(rng.uniform(-1, 1, (3, *model.image_shape)).astype("float32"), seed=1)
    if name == "classifier":
        return model(rng.uniform(-1, 1, (3, *model.image_shape)).astype("float32"))
    if name in ("vae", "cvae"):
        images = rng.uniform(-1, 1, (3, *model.image_shape)).astype("float32")
        return np.concatenate([model.generate(3, seed=1).ravel(), model.reconstruct(images).ravel()])
    return model.generate(3, seed=1)


def _finite(model):
    return all(np.all(np.isfinite(np.asarray(w.numpy()))) for w in model.weights)


ALL = list_models()


def test_every_architecture_is_registered():
    assert set(ALL) >= {"dcgan", "wgan_gp", "acgan", "cgan", "vae", "cvae", "char_lstm", "feature_generator", "classifier"}


@pytest.mark.parametrize("name", ALL)
def test_fit_round_trip_and_outputs(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = _build(name)
    compile_for_training(model)
    history = model.fit(_data(model, name), epochs=1, verbose=0)
    assert history.history and all(np.isfinite(v[-1]) for v in history.history.values()), history.history
    assert _finite(model)

    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(_probe(model, name), _probe(loaded, name), atol=1e-6)


@pytest.mark.parametrize("name", ALL)
def test_one_trainer_step_on_two_replicas(name, two_cpu_strategy):
    keras.utils.set_random_seed(0)
    with two_cpu_strategy.scope():
        model = _build(name, replicas=2)
        compile_for_training(model, two_cpu_strategy)
    data = _data(model, name).take(1)
    before = [np.asarray(w.numpy()).copy() for w in model.trainable_weights]
    logs = Trainer(model, two_cpu_strategy, verbose=0).fit(data, epochs=1)
    assert all(np.isfinite(v[0]) for k, v in logs.items() if k != "step")
    assert any(not np.allclose(b, w.numpy()) for b, w in zip(before, model.trainable_weights))
    assert _finite(model)


@pytest.mark.parametrize("name", [n for n in ALL if n != "char_lstm"])
def test_three_channel_images(name):
    model = _build(name, channels=3)
    compile_for_training(model)
    data = _data(model, name, channels=3).take(1)
    model.fit(data, epochs=1, verbose=0)
    if name == "classifier":
        assert model.backbone.input.shape[-1] == 3 and _probe(model, name).shape == (3, model.num_classes)
    else:
        assert np.asarray(_probe(model, name)).reshape(-1, *model.image_shape).shape[-1] == 3
    assert _finite(model)
