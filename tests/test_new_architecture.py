"""Adding an architecture takes its model class and its registration: nothing else in the package changes.

Shown for a GAN (with its own layer names; with a third optimizer slot and an extra generator input) and for a
generator that is no GAN, with an integer input (a toy denoiser).

A minimal MLP GAN, written and registered here as a user would, trains through the same library run as
`ktg train`, samples, exports for TF Serving and TFLite, round-trips through `.keras`, transfers to colour
through its declared heads and is measured by the metrics, all without the package knowing its name.
"""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import registry
from keras_transfer_gan.export import export_saved_model, export_tflite
from keras_transfer_gan.metrics import FeatureExtractor, evaluate_samples, generate_images
from keras_transfer_gan.models import GAN, SingleOptimizerModel
from keras_transfer_gan.models.architecture import Signature, tensor_spec
from keras_transfer_gan.runs import sample_run, train_run
from keras_transfer_gan.training import compile_for_training
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


# --------------------------------------------------------------------------------------------------------
# A GAN whose generator takes more than z (a per-pixel noise map) and has a third optimizer slot.
@keras.saving.register_keras_serializable(package="tests")
class NoisyMLPGAN(MLPGAN):
    """G: [z, noise map] -> image, its first layer (a "mapping" part) trained by its own optimizer at 0.01x."""

    optimizer_slots = ("d_optimizer", "g_optimizer", "mapping_optimizer")
    optimizer_defaults = {"learning_rate": 1e-2, "beta_1": 0.5, "mapping_optimizer": {"lr_multiplier": 0.01}}

    def build_generator(self):
        z = keras.Input((self.latent_dim,), name="z")
        noise = keras.Input((self.image_size, self.image_size, 1), name="noise")
        mapping = keras.Sequential([keras.layers.Dense(self.units, activation="relu")], name="mapping")
        x = keras.layers.Dense(self.image_size * self.image_size, name="g_dense")(mapping(z))
        x = keras.layers.Reshape((self.image_size, self.image_size, 1))(x)
        x = keras.layers.Add()([x, noise])
        x = keras.layers.Conv2D(self.channels, 1, activation="tanh", name="g_out")(x)
        return keras.Model([z, noise], x, name="generator")

    def extra_generator_inputs(self, batch_size, seed):
        return [tf.random.stateless_normal([batch_size, self.image_size, self.image_size, 1], seed)]

    def optimizer_groups(self, side):
        if side != "generator":
            return super().optimizer_groups(side)
        mapping = self.generator.get_layer("mapping")
        rest = [layer for layer in self.generator.layers if layer is not mapping and layer.weights]
        return [(self.mapping_optimizer, mapping), *((self.g_optimizer, layer) for layer in rest)]


def _noisy(weights=None):
    model = NoisyMLPGAN(latent_dim=8, image_size=16, units=16, seed=4)
    if weights is not None:
        model.set_weights(weights)
    compile_for_training(model)
    return model


def test_a_third_optimizer_slot_and_extra_generator_inputs_train_and_resume_exactly(tmp_path):
    """compile_for_training builds the declared slot at its own rate; the noise map is keyed by step, so
    2 epochs + resume + 2 equal 4 straight; sampling and export draw the extra input themselves."""
    from keras_transfer_gan.training import Trainer

    data = tf.data.Dataset.from_tensor_slices(
        np.random.default_rng(0).uniform(-1, 1, (32, 16, 16, 1)).astype("float32")).batch(16)
    straight = _noisy()
    start = [w.numpy() for w in straight.weights]
    assert float(straight.mapping_optimizer.learning_rate) == pytest.approx(1e-4)
    assert float(straight.g_optimizer.learning_rate) == pytest.approx(1e-2)
    mapping_before = [w.numpy() for w in straight.generator.get_layer("mapping").weights]
    Trainer(straight, verbose=0).fit(data, epochs=4)
    assert int(straight.mapping_optimizer.iterations) == int(straight.g_optimizer.iterations) == 8
    assert not np.allclose(mapping_before[0], straight.generator.get_layer("mapping").weights[0].numpy())

    Trainer(_noisy(start), checkpoint_dir=str(tmp_path), verbose=0).fit(data, epochs=2)
    resumed = _noisy()
    Trainer(resumed, checkpoint_dir=str(tmp_path), verbose=0).fit(data, epochs=4, resume=True)
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6, err_msg=a.path)

    np.testing.assert_array_equal(resumed.sample(3, seed=1), resumed.sample(3, seed=1))
    assert not np.allclose(resumed.sample(3, seed=1), resumed.sample(3, seed=2))
    path = str(tmp_path / "noisy.keras")
    resumed.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.sample(3, seed=1), resumed.sample(3, seed=1), atol=1e-6)
    assert sorted(loaded.get_compile_config()) == ["d_optimizer", "g_optimizer", "loss", "mapping_optimizer"]
    # The serving graph draws the noise map in-graph (TFLite has no stateless RNG: a model exporting to TFLite
    # gives such inputs their own signature input instead).
    version = export_saved_model(resumed, str(tmp_path / "serving"), "noisy")
    served = tf.saved_model.load(version).signatures["generate_uint8_seeded"]
    first = served(batch_size=tf.constant(2), seed=tf.constant(5))["images"].numpy()
    np.testing.assert_array_equal(first, served(batch_size=tf.constant(2), seed=tf.constant(5))["images"].numpy())


# --------------------------------------------------------------------------------------------------------
# A generator that is no GAN, with an integer input: a toy denoiser (noise prediction from (x_t, t)).
@keras.saving.register_keras_serializable(package="tests")
class ToyDenoiser(SingleOptimizerModel):
    """Predicts the noise in ``x_t = sqrt(a_t) x + sqrt(1 - a_t) eps`` from ``(x_t, t)``, ``t`` an int32 in
    ``[0, steps)``; samples by a deterministic DDIM-like walk from noise. A new family, named by itself."""

    family = "denoiser"
    generates = "images"
    optimizer_defaults = {"learning_rate": 2e-3, "beta_1": 0.9}
    config_fields = ("image_size", "channels", "steps", "seed")

    def __init__(self, image_size=16, channels=1, steps=4, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.image_size, self.channels, self.steps, self.seed = image_size, channels, steps, seed
        noisy = keras.Input((image_size, image_size, channels), name="noisy_images")
        timestep = keras.Input((), dtype="int32", name="timestep")
        level = keras.layers.Reshape((1, 1, 4))(keras.layers.Embedding(steps, 4, name="t_embedding")(timestep))
        x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_in")(noisy)
        x = keras.layers.Add()([x, level])
        out = keras.layers.Conv2D(channels, 3, padding="same", name="conv_out")(x)
        self.network = keras.Model([noisy, timestep], out, name="network")
        self.signal = tf.constant(np.linspace(0.9, 0.05, steps), tf.float32)
        self.trackers = {"loss": keras.metrics.Mean(name="loss")}
        self.built = True

    def input_range(self, name):
        return (0, self.steps) if name == "timestep" else super().input_range(name)

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def ema_pair(self):
        return None, self.network

    def per_example_losses(self, images, labels):
        n, step = tf.shape(images)[0], tf.cast(self.optimizer.iterations, tf.int64)
        t = tf.random.stateless_uniform([n], tf.stack([tf.constant(self.seed, tf.int64), step]), 0, self.steps,
                                        dtype=tf.int32)
        eps = tf.random.stateless_normal(tf.shape(images), tf.stack([tf.constant(self.seed + 1, tf.int64), step]))
        a = tf.reshape(tf.gather(self.signal, t), [-1, 1, 1, 1])
        predicted = self.network([tf.sqrt(a) * images + tf.sqrt(1 - a) * eps, t], training=True)
        per_example = tf.reduce_mean(tf.square(tf.cast(predicted, tf.float32) - eps), axis=[1, 2, 3])
        return per_example, {"loss": per_example}

    def sample(self, n, conditions=None, seed=None, **options):
        rng = np.random.default_rng(self.seed if seed is None else seed)
        x = rng.standard_normal((n, self.image_size, self.image_size, self.channels)).astype("float32")
        signal = self.signal.numpy()
        for t in reversed(range(self.steps)):
            eps = self.network([x, np.full((n,), t, np.int32)], training=False).numpy()
            x0 = np.clip((x - np.sqrt(1 - signal[t]) * eps) / np.sqrt(signal[t]), -1, 1)
            x = x0 if t == 0 else np.sqrt(signal[t - 1]) * x0 + np.sqrt(1 - signal[t - 1]) * eps
        return x.astype("float32")

    def serving_signatures(self, batch_size=None, seq_len=None):
        specs = [tensor_spec([batch_size, self.image_size, self.image_size, self.channels], tf.float32,
                             "noisy_images"), tensor_spec([batch_size], tf.int32, "timestep")]
        return {"serving_default": Signature(
            "serving_default", lambda x, t: {"noise": self.network([x, t], training=False)}, specs, ("noise",))}


@pytest.fixture
def toy_denoiser():
    registry.register_model("toy_denoiser", ToyDenoiser, "a toy denoiser with an integer timestep (test)",
                            tiny=dict(steps=4))
    yield "toy_denoiser"
    registry._REGISTRY.pop("toy_denoiser")


def test_a_generator_with_an_integer_input_trains_samples_and_exports(toy_denoiser, tmp_path):
    """Registered by one call, it trains through `train_run` (callbacks ask `sample(n, seed=...)`), samples
    through `sample_run`, round-trips `.keras`, gets integer probes in its own range and exports."""
    paths = train_run(toy_denoiser, "digits", str(tmp_path / "run"), epochs=2, batch_size=16, image_size=16,
                      limit=32, tiny=True, verbose=0)
    history = json.load(open(paths["metrics"]))["history"]
    assert len(history["loss"]) == 2 and os.path.isfile(tmp_path / "run" / "samples_epoch002.png")
    model = keras.models.load_model(paths["model"])
    assert type(model) is ToyDenoiser and model.sample(3, seed=0).shape == (3, 16, 16, 1)
    assert sample_run(paths["model"], str(tmp_path / "grid.png"), n=4).endswith("grid.png")

    signature = model.serving_signatures()["serving_default"]
    probes = model.probe_inputs(signature, n=64, seed=0)
    assert probes["timestep"].dtype == np.int32 and probes["timestep"].shape == (64,)
    assert probes["timestep"].min() >= 0 and probes["timestep"].max() < 4 and len(set(probes["timestep"])) > 1
    assert probes["noisy_images"].dtype == np.float32 and probes["noisy_images"].shape == (64, 16, 16, 1)
    version = export_saved_model(model, str(tmp_path / "serving"), "toy")
    assert os.path.isfile(os.path.join(version, "saved_model.pb"))
    assert export_tflite(model, str(tmp_path / "toy.tflite")).max_abs_error < 1e-5
