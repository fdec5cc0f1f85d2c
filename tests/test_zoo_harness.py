"""One harness for every registered architecture: build, fit, 2-replica Trainer step, .keras round trip.

It knows no architecture by name: data come from each entry (`ModelEntry.training_data`, by what it
consumes), outputs from what each model declares (`sample`, `serving_signatures`, `probe_inputs`).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan.registry import build_model, get_entry, list_models
from keras_transfer_gan.training import Trainer, compile_for_training

TEXT = "the quick brown fox jumps over the lazy dog. " * 40


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "fox.txt"
    path.write_text(TEXT)
    return str(path)


def _setup(name, corpus, channels=1, batch=16, **overrides):
    """The entry's tiny model on its own kind of data (gray or colour digits, or a text file)."""
    entry = get_entry(name)
    spec = corpus if entry.consumes == "text" else ("digits" if channels == 1 else "digits_m")
    data = entry.training_data(spec, image_size=entry.tiny.get("image_size", 32), batch_size=batch,
                               limit=4 * batch, seq_len=16)
    model = build_model(name, tiny=True, **{**data.overrides, **overrides})
    return model, data


def _probe(model, data):
    """Deterministic outputs: a seeded sample, the class probabilities of a classifier, and every signature
    that gives the same outputs twice on the same inputs (unseeded in-graph sampling is left out)."""
    rng = np.random.default_rng(0)
    outputs = []
    if model.generates is not None:
        conditions = {"images": data.conditions, "prompt": "the lazy fox"}.get(model.conditions)
        sample = model.sample(3 if model.generates == "images" else 12, conditions=conditions, seed=1)
        outputs.append(np.frombuffer(sample.encode(), np.uint8) if isinstance(sample, str) else np.ravel(sample))
    else:
        images = rng.uniform(-1, 1, (3, *model.image_shape)).astype("float32")
        outputs.append(np.ravel(model.class_probabilities(images)))
    for signature in model.serving_signatures().values():
        inputs = model.probe_inputs(signature, n=3, seed=0, images=data.conditions)
        run = lambda: [np.ravel(np.asarray(v)).astype(np.float64) if np.asarray(v).dtype != object  # noqa: E731
                       else np.frombuffer(np.asarray(v).item(), np.uint8).astype(np.float64)
                       for v in signature.fn(*[tf.constant(inputs[s.name]) for s in signature.specs]).values()]
        first, second = run(), run()
        if all(np.array_equal(a, b) for a, b in zip(first, second)):
            outputs.extend(first)
    return np.concatenate([np.asarray(o, np.float64) for o in outputs])


def _finite(model):
    return all(np.all(np.isfinite(np.asarray(w.numpy()))) for w in model.weights)


ALL = list_models()


def test_every_architecture_is_registered():
    assert set(ALL) >= {"dcgan", "wgan_gp", "acgan", "cgan", "vae", "cvae", "char_lstm", "feature_generator", "classifier"}


@pytest.mark.parametrize("name", ALL)
def test_fit_round_trip_and_outputs(name, tmp_path, corpus):
    keras.utils.set_random_seed(0)
    model, data = _setup(name, corpus)
    compile_for_training(model)
    history = model.fit(data.dataset, epochs=1, verbose=0)
    assert history.history and all(np.isfinite(v[-1]) for v in history.history.values()), history.history
    assert _finite(model)

    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(_probe(model, data), _probe(loaded, data), atol=1e-6)


@pytest.mark.parametrize("name", ALL)
def test_one_trainer_step_on_two_replicas(name, two_cpu_strategy, corpus):
    keras.utils.set_random_seed(0)
    with two_cpu_strategy.scope():
        model, data = _setup(name, corpus, replicas=2)
        compile_for_training(model, two_cpu_strategy)
    before = [np.asarray(w.numpy()).copy() for w in model.trainable_weights]
    logs = Trainer(model, two_cpu_strategy, verbose=0).fit(data.dataset.take(1), epochs=1)
    assert all(np.isfinite(v[0]) for k, v in logs.items() if k != "step")
    assert any(not np.allclose(b, w.numpy()) for b, w in zip(before, model.trainable_weights))
    assert _finite(model)


@pytest.mark.parametrize("name", [n for n in ALL if get_entry(n).consumes != "text"])
def test_three_channel_images(name, corpus):
    model, data = _setup(name, corpus, channels=3)
    assert model.channels == 3
    compile_for_training(model)
    model.fit(data.dataset.take(1), epochs=1, verbose=0)
    if model.generates == "images":
        conditions = data.conditions if model.conditions == "images" else None
        assert np.asarray(model.sample(3, conditions=conditions, seed=1)).shape == (3, *model.image_shape)
    else:
        images = np.zeros((3, *model.image_shape), "float32")
        assert model.feature_network().input.shape[-1] == 3
        assert model.class_probabilities(images).shape == (3, model.num_classes)
    assert _finite(model)
