"""Adding an architecture takes its model class and its registration: nothing else in the package changes.

A minimal MLP GAN, written and registered here as a user would, trains through the same library run as
`ktg train`, samples, exports for TF Serving and TFLite, round-trips through `.keras`, transfers to colour
through its declared heads and is measured by the metrics, all without the package knowing its name.
"""

import json
import os

import keras
import numpy as np
import pytest

from keras_transfer_gan import registry
from keras_transfer_gan.export import export_saved_model, export_tflite
from keras_transfer_gan.metrics import FeatureExtractor, evaluate_samples, generate_images
from keras_transfer_gan.models import GAN
from keras_transfer_gan.runs import sample_run, train_run
from keras_transfer_gan.transfer import derive_model


@keras.saving.register_keras_serializable(package="tests")
class MLPGAN(GAN):
    """G: z -> Dense -> image; D: image -> Dense -> logit. Declares its heads for a change of channels."""

    transfer_heads = {"g_out": "output_channels", "d_in": "input_channels"}
    config_fields = ("units",)

    def __init__(self, units=32, **kwargs):
        self.units = units
        super().__init__(**kwargs)

    def build_generator(self):
        z = keras.Input((self.latent_dim,))
        x = keras.layers.Dense(self.units, activation="relu", name="g_hidden")(z)
        x = keras.layers.Dense(self.image_size * self.image_size, name="g_dense")(x)
        x = keras.layers.Reshape((self.image_size, self.image_size, 1))(x)
        x = keras.layers.Conv2D(self.channels, 1, activation="tanh", name="g_out")(x)
        return keras.Model(z, x, name="generator")

    def build_discriminator(self):
        image = keras.Input(self.image_shape)
        x = keras.layers.Conv2D(4, 1, name="d_in")(image)
        x = keras.layers.Flatten(name="d_flatten")(x)
        return keras.Model(image, keras.layers.Dense(1, name="d_logits")(x), name="discriminator")


@pytest.fixture
def mlp_gan():
    registry.register_model("mlp_gan", MLPGAN, "a two-layer MLP GAN (test)",
                            tiny=dict(latent_dim=8, image_size=16, units=16))
    yield "mlp_gan"
    registry._REGISTRY.pop("mlp_gan")


def test_a_registered_architecture_trains_samples_exports_and_transfers(mlp_gan, tmp_path):
    paths = train_run(mlp_gan, "digits", str(tmp_path / "run"), epochs=1, batch_size=16, image_size=16, limit=64,
                      tiny=True, verbose=0)
    assert json.load(open(paths["metrics"]))["config"]["units"] == 16
    assert os.path.isfile(tmp_path / "run" / "samples.png")
    model = keras.models.load_model(paths["model"])
    assert type(model) is MLPGAN and model.generate(3).shape == (3, 16, 16, 1)
    assert sample_run(paths["model"], str(tmp_path / "grid.png"), n=4).endswith("grid.png")

    version = export_saved_model(model, str(tmp_path / "serving"), "mlp")
    assert sorted(os.listdir(version)) == ["assets", "assets.extra", "fingerprint.pb", "saved_model.pb", "variables"]
    report = export_tflite(model, str(tmp_path / "g.tflite"))
    assert report.signature == "serving_default" and report.max_abs_error < 1e-5

    rgb, transfer = derive_model(model, channels=3)
    assert transfer.counts()["adapted"] == 3  # g_out kernel and bias (repeated), d_in kernel (averaged)
    np.testing.assert_allclose(rgb.generate(4), np.repeat(model.generate(4), 3, axis=-1), atol=1e-6)

    clf = registry.build_model("classifier", tiny=True)
    result = evaluate_samples(generate_images(model, 16), generate_images(model, 16, seed=1),
                              extractor=FeatureExtractor.from_classifier(clf), metrics=("fid", "kid"))
    assert np.isfinite(result["fid"])


class BlockMLPGAN(MLPGAN):
    """The MLP GAN with layers named its own way, declaring what Freeze-D, CDC and scale/shift work on."""

    few_shot_methods = GAN.few_shot_methods + ("freeze_d", "cdc", "scale_shift")

    def build_discriminator(self):
        image = keras.Input(self.image_shape)
        x = keras.layers.Conv2D(4, 1, name="stem")(image)
        x = keras.layers.Conv2D(4, 1, name="middle")(x)
        x = keras.layers.Flatten(name="d_flatten")(x)
        return keras.Model(image, keras.layers.Dense(1, name="head")(x), name="discriminator")

    def discriminator_blocks(self):
        return [["stem"], ["middle"]]

    def cdc_layers(self):
        return ["g_hidden"]

    def scale_shift_layers(self, output_layer=True):
        return ["g_hidden"] + (["g_out"] if output_layer else [])


def test_transfer_asks_the_model_for_its_blocks_and_layers():
    """Freeze-D, CDC and scale/shift use the layers a model declares, whatever their names."""
    from keras_transfer_gan.transfer import CDC, adapt_scale_shift, freeze_discriminator_blocks

    model = BlockMLPGAN(latent_dim=8, image_size=16, units=16)
    summary = freeze_discriminator_blocks(model, 1)
    trainable = {layer.name: layer.trainable for layer in model.discriminator.layers if layer.weights}
    assert trainable == {"stem": False, "middle": True, "head": True}, summary
    assert CDC(model).layers == ["g_hidden"]
    adapt_scale_shift(model, output_layer=False)
    assert {layer.name for layer in model.generator.layers if layer.weights and layer.trainable} == {"g_hidden"}


@pytest.mark.parametrize("method, call, message", [
    ("freeze_d", lambda m: __import__("keras_transfer_gan.transfer", fromlist=["x"]).freeze_discriminator_blocks(m, 1),
     "MLPGAN does not support freeze_d (it supports: l2_sp, ewc)"),
    ("cdc", lambda m: __import__("keras_transfer_gan.transfer", fromlist=["x"]).CDC(m),
     "MLPGAN does not support cdc"),
    ("scale_shift", lambda m: __import__("keras_transfer_gan.transfer", fromlist=["x"]).adapt_scale_shift(m),
     "MLPGAN does not support scale_shift"),
    ("adafm", lambda m: __import__("keras_transfer_gan.transfer", fromlist=["x"]).scale_shift_target(m, kernels=True),
     "MLPGAN does not support adafm"),
])
def test_a_method_the_model_does_not_declare_is_a_one_line_error(method, call, message):
    model = MLPGAN(latent_dim=8, image_size=16, units=16)
    with pytest.raises(ValueError) as info:
        call(model)
    assert message in str(info.value) and "\n" not in str(info.value)
