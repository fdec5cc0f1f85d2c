import json

import keras
import numpy as np
import pytest

from keras_transfer_gan import create_model, load_pretrained
from tests.helpers import assert_weights_equal

Z = np.random.default_rng(0).standard_normal((3, 16)).astype("float32")


def test_keras_file_loads_and_rebuilds_with_overrides(tmp_path):
    source = create_model("dcgan", tiny=True)
    path = str(tmp_path / "m.keras")
    source.save(path)
    loaded = load_pretrained(path)
    np.testing.assert_array_equal(loaded.generate(Z), source.generate(Z))
    rgb, report = load_pretrained(path, channels=3, return_report=True)
    assert rgb.channels == 3 and not report.problems
    np.testing.assert_allclose(rgb.generate(Z), np.repeat(source.generate(Z), 3, axis=-1), atol=1e-6)
    with pytest.raises(ValueError, match="unknown override 'colour'"):
        load_pretrained(path, colour=3)


def test_weights_h5_with_model_name_or_config(tmp_path):
    source = create_model("dcgan", tiny=True)
    path = str(tmp_path / "m.weights.h5")
    source.save_weights(path)
    by_name = load_pretrained(path, model="dcgan", config=dict(latent_dim=16, image_size=16, g_filters=8, d_filters=8))
    np.testing.assert_array_equal(by_name.generate(Z), source.generate(Z))
    assert_weights_equal(source, by_name)  # D and every statistic too
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(keras.saving.serialize_keras_object(source)))
    by_config = load_pretrained(path, config=str(config_path))
    np.testing.assert_array_equal(by_config.generate(Z), source.generate(Z))
    with pytest.raises(ValueError, match="holds no architecture"):
        load_pretrained(path)
    with pytest.raises(ValueError, match="do not fit the model"):
        load_pretrained(path, model="dcgan", config=dict(latent_dim=16, image_size=16, g_filters=4, d_filters=8))


def test_foreign_saved_model_is_a_frozen_feature_extractor(tmp_path):
    inputs = keras.Input((8,))
    net = keras.Model(inputs, keras.layers.Dense(4, name="proj")(inputs))
    directory = str(tmp_path / "sm")
    net.export(directory, verbose=False)
    layer = load_pretrained(directory)
    x = np.random.default_rng(1).standard_normal((2, 8)).astype("float32")
    out = layer(x)
    out = next(iter(out.values())) if isinstance(out, dict) else out
    np.testing.assert_allclose(out, net(x), atol=1e-6)
    assert layer.weights and not any(w.trainable for w in layer.weights)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: str(p / "missing.keras"), "no such file"),
        (lambda p: (p / "bad.keras").write_bytes(b"not a zip") and str(p / "bad.keras"), "cannot load the .keras file"),
        (lambda p: (p / "m.txt").write_text("x") and str(p / "m.txt"), "unsupported file type"),
        (lambda p: str(p), "no saved_model.pb"),
    ],
)
def test_bad_sources_give_one_line_errors(tmp_path, make, message):
    source = make(tmp_path)
    with pytest.raises(ValueError) as info:
        load_pretrained(source)
    assert message in str(info.value) and "\n" not in str(info.value)
