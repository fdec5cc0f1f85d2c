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


FIXTURES = __import__("os").path.join(__import__("os").path.dirname(__file__), "fixtures")
LEGACY_CONFIG = dict(latent_dim=16, image_size=16, g_filters=16, d_filters=8)


def _legacy_io():
    io = np.load(f"{FIXTURES}/legacy_generator_io.npz")
    return io["z"], io["images"]


def test_legacy_keras2_full_h5_loads_with_keras2_outputs():
    z, images = _legacy_io()
    model = load_pretrained(f"{FIXTURES}/legacy_generator.h5")
    assert isinstance(model, keras.Model) and model.name == "generator"
    np.testing.assert_allclose(model(z, training=False), images, atol=1e-5)


@pytest.mark.parametrize("fixture", ["legacy_generator.h5", "legacy_generator_weights.h5"])
def test_legacy_keras2_h5_weights_go_into_a_zoo_model_by_layer_name(fixture):
    z, images = _legacy_io()
    model, report = load_pretrained(f"{FIXTURES}/{fixture}", model="dcgan", config=LEGACY_CONFIG,
                                    return_report=True)
    np.testing.assert_allclose(model.generate(z), images, atol=1e-5)
    copied = {row.path for row in report.rows if row.status == "copied"}
    assert "generator/g_project/kernel" in copied and "generator/g_up1_bn/moving_variance" in copied
    # the discriminator was not in the file: reported, not silently skipped
    assert {row.status for row in report.rows if row.path.startswith("discriminator/")} == {"missing in source"}


def test_legacy_weights_only_h5_needs_an_architecture():
    with pytest.raises(ValueError, match="weights-only Keras 2 .h5 holds no architecture"):
        load_pretrained(f"{FIXTURES}/legacy_generator_weights.h5")


def test_truncated_legacy_h5_is_a_one_line_error(tmp_path):
    path = tmp_path / "cut.h5"
    path.write_bytes(open(f"{FIXTURES}/legacy_generator.h5", "rb").read()[:5000])
    with pytest.raises(ValueError) as info:
        load_pretrained(str(path))
    assert "not a Keras 2 HDF5" in str(info.value) and "\n" not in str(info.value)
