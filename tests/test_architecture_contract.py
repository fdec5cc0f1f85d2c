"""What every registered architecture declares holds for the model it builds; old names still work, warned."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import registry
from keras_transfer_gan.data import Vocabulary
from keras_transfer_gan.models import DCGAN, Architecture
from keras_transfer_gan.models.architecture import HEAD_KINDS
from keras_transfer_gan.registry import build_model, get_entry, list_models
from keras_transfer_gan.training import compile_for_training
from keras_transfer_gan.transfer import carry_weights, derive_model, rebuild_heads, rebuilt_target


def _tiny(name):
    extra = {"vocabulary": Vocabulary.from_text("abc def")} if get_entry(name).consumes == "text" else {}
    return build_model(name, tiny=True, **extra)


@pytest.mark.parametrize("name", list_models())
def test_declarations_hold_for_the_built_model(name):
    entry, model = get_entry(name), _tiny(name)
    assert isinstance(model, Architecture) and isinstance(model, entry.model_class)
    assert model.consumes == entry.consumes
    assert isinstance(model.family, str) and model.family  # an open set: a new family names itself
    assert model.generates in ("images", "text", None)
    assert set(model.transfer_heads.values()) <= set(HEAD_KINDS)
    layer_names = {layer.name for part in model.layers for layer in getattr(part, "layers", [part])}
    assert set(model.transfer_heads) & layer_names, "no declared head is a layer of the model"
    signatures = model.serving_signatures()
    assert model.default_signature in signatures
    for signature in signatures.values():  # probe inputs fit every signature
        outputs = signature.fn(*[tf.constant(model.probe_inputs(signature, n=2)[s.name]) for s in signature.specs])
        assert set(outputs) == set(signature.outputs)
    compile_for_training(model)
    assert all(getattr(model, slot) is not None for slot in model.optimizer_slots)
    if model.generates == "images":
        conditions = np.zeros((3, *model.image_shape), "float32") if model.conditions == "images" else None
        assert model.sample(3, conditions=conditions, seed=0).shape == (3, *model.image_shape)
    elif model.generates == "text":
        assert model.sample(5, conditions="ab", seed=0).startswith("ab")
    else:
        with pytest.raises(ValueError, match="does not generate"):
            model.sample(3)


def test_only_declared_heads_are_carried():
    class Undeclared(DCGAN):  # the same networks, no heads declared
        transfer_heads = {}

    source = Undeclared(latent_dim=16, image_size=16, g_filters=8, d_filters=8)
    report = carry_weights(source, Undeclared(latent_dim=16, image_size=16, g_filters=8, d_filters=8, channels=3))
    assert report.counts()["adapted"] == 0 and report.counts()["shape mismatch"] == 3
    declared = carry_weights(source, DCGAN(latent_dim=16, image_size=16, g_filters=8, d_filters=8, channels=3))
    assert declared.counts()["adapted"] == 3


def test_old_names_still_work_with_a_deprecation_warning():
    source = build_model("dcgan", tiny=True)
    with pytest.warns(DeprecationWarning, match="derive_model"):
        target, report = rebuilt_target(source, channels=3)
    with pytest.warns(DeprecationWarning, match="carry_weights"):
        again = rebuild_heads(source, target)
    assert report.counts() == again.counts() == derive_model(source, channels=3)[1].counts()
    assert registry.create_model("dcgan", tiny=True).latent_dim == 16
    with pytest.raises(ValueError, match="keras_transfer_gan.create_model"):
        registry.create_model("dcgan", pretrained="dcgan_digits")
    assert get_entry("acgan").inputs == get_entry("acgan").consumes == "labelled_images"


def test_a_subclass_overriding_the_old_hook_names_still_adds_its_loss():
    class OldStyle(DCGAN):
        def g_penalty(self, fake, real, labels, fake_aux):  # the previous release's hook
            return tf.fill([tf.shape(fake)[0]], 1000.0), {}

    images = np.random.default_rng(0).uniform(-1, 1, (16, 16, 16, 1)).astype("float32")
    losses = {}
    for cls in (DCGAN, OldStyle):
        keras.utils.set_random_seed(0)
        model = cls(latent_dim=16, image_size=16, g_filters=8, d_filters=8)
        compile_for_training(model)
        with pytest.warns(DeprecationWarning, match="g_auxiliary_loss") if cls is OldStyle else \
                _no_warning():
            losses[cls] = model.fit(tf.data.Dataset.from_tensor_slices(images).batch(16), verbose=0).history["g_loss"][0]
    assert losses[OldStyle] == pytest.approx(losses[DCGAN] + 1000.0, rel=1e-4)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_zoo_presets_hang_off_their_entries():
    """Each zoo checkpoint is a preset of exactly the entry whose model trained it."""
    from keras_transfer_gan import zoo

    owners = {name: [m for m in list_models() if name in get_entry(m).presets] for name in zoo.list_zoo()}
    assert owners and all(owner == [zoo.zoo_config(name)["model"]] for name, owner in owners.items()), owners
    assert "dcgan_fashion_base" in get_entry("dcgan").presets
