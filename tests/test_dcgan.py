import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model, list_models
from keras_transfer_gan.models import DCGAN
from keras_transfer_gan.training import compile_for_training
from tests.helpers import assert_weights_equal


@pytest.mark.parametrize("size, channels", [(16, 1), (32, 3), (64, 1)])
def test_shapes_for_every_size_and_channel_count(size, channels):
    model = DCGAN(latent_dim=8, image_size=size, channels=channels, g_filters=4, d_filters=4)
    images = model.generate(3)
    assert images.shape == (3, size, size, channels)
    assert -1.0 <= images.min() and images.max() <= 1.0
    assert model.discriminator(images).shape == (3, 1)


def test_readable_layer_names():
    model = create_model("dcgan", tiny=True)
    g_names = [layer.name for layer in model.generator.layers]
    d_names = [layer.name for layer in model.discriminator.layers]
    assert g_names[:3] == ["z", "g_project", "g_project_bn"] and "g_out_deconv" in g_names
    assert {"d_block1_conv", "d_block2_conv", "d_block2_bn", "d_logits"} <= set(d_names)


def test_spectral_norm_option_wraps_discriminator_layers():
    model = create_model("dcgan", tiny=True, spectral_norm=True)
    sn = [l for l in model.discriminator.layers if isinstance(l, keras.layers.SpectralNormalization)]
    assert [l.name for l in sn] == ["d_block1_sn", "d_block2_sn", "d_logits_sn"]
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in model.discriminator.layers)


def test_generate_from_n_is_seeded_and_from_z_matches_call():
    model = create_model("dcgan", tiny=True)
    np.testing.assert_array_equal(model.generate(4, seed=1), model.generate(4, seed=1))
    assert not np.array_equal(model.generate(4, seed=1), model.generate(4, seed=2))
    z = np.random.default_rng(0).standard_normal((5, 16)).astype("float32")
    np.testing.assert_allclose(model.generate(z), model(z).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match=r"z must be shaped \(n, 16\)"):
        model.generate(np.zeros((2, 3), "float32"))


def test_get_config_mirrors_every_constructor_argument():
    model = create_model("dcgan", latent_dim=12, image_size=16, channels=3, g_filters=6,
                         d_filters=5, spectral_norm=True, sync_batchnorm=True, seed=9)
    config = model.get_config()
    for key, value in dict(latent_dim=12, image_size=16, channels=3, g_filters=6, d_filters=5,
                           spectral_norm=True, sync_batchnorm=True, seed=9).items():
        assert config[key] == value
    clone = DCGAN.from_config(config)
    assert clone.count_params() == model.count_params()


def test_fit_trains_and_keras_file_round_trips(tmp_path, digits16):
    keras.utils.set_random_seed(0)
    model = create_model("dcgan", tiny=True)
    compile_for_training(model)
    before = [w.numpy().copy() for w in model.generator.trainable_weights]
    history = model.fit(tf.data.Dataset.from_tensor_slices(digits16).batch(16), epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert any(not np.allclose(b, w.numpy()) for b, w in zip(before, model.generator.trainable_weights))
    assert int(model.g_optimizer.iterations) == 4

    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, DCGAN)
    assert_weights_equal(model, loaded)
    z = np.random.default_rng(1).standard_normal((4, 16)).astype("float32")
    np.testing.assert_array_equal(model.generate(z), loaded.generate(z))
    # The optimizers' state comes back too, so training can continue.
    assert int(loaded.g_optimizer.iterations) == 4
    for a, b in zip(model.d_optimizer.variables, loaded.d_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_invalid_constructor_arguments():
    with pytest.raises(ValueError, match="image_size must be one of"):
        DCGAN(image_size=48)
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        DCGAN(channels=2)
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        create_model("nope")
    with pytest.raises(ValueError, match="create_model\\('dcgan'\\)"):
        create_model("dcgan", no_such_argument=1)


def test_registry_lists_dcgan():
    assert "dcgan" in list_models()


def test_unknown_adversarial_loss():
    model = create_model("dcgan", tiny=True)
    with pytest.raises(ValueError, match="unknown adversarial loss 'bogus'"):
        compile_for_training(model, loss="bogus")


def test_distributed_defaults_apply_above_one_replica():
    assert create_model("dcgan", tiny=True, replicas=2).sync_batchnorm is True
    assert create_model("dcgan", tiny=True).sync_batchnorm is False
    assert create_model("dcgan", tiny=True, replicas=2, sync_batchnorm=False).sync_batchnorm is False
