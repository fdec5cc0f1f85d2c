"""The transfer recipes: TrGAN, TGAN, CTGAN, classifier fine-tuning, generator-augmented classifiers."""

import keras
import numpy as np
import pytest

from keras_transfer_gan import create_model, load_dataset
from keras_transfer_gan.training import compile_for_training
from keras_transfer_gan import tasks as recipes
from keras_transfer_gan.tasks.fitting import fit
from keras_transfer_gan.transfer import DiffAugment, L2SP, named_weights


def _values(model, prefix):
    return {p: np.array(v.numpy()) for p, v in named_weights(model).items() if p.startswith(prefix)}


def _changed(before, model):
    now = named_weights(model)
    return {p for p, v in before.items() if not np.array_equal(v, now[p].numpy())}


@pytest.fixture(scope="module")
def colour16():
    return load_dataset("digits_m", image_size=16, batch_size=16, limit=32, drop_remainder=True, shuffle=False)


@pytest.fixture(scope="module")
def labelled16():
    return load_dataset("digits", image_size=16, batch_size=16, limit=64, labels=True, drop_remainder=True,
                        shuffle=False)


@pytest.fixture(scope="module")
def source_classifier(labelled16):
    keras.utils.set_random_seed(0)
    clf = create_model("classifier", tiny=True)
    compile_for_training(clf)
    clf.fit(labelled16, epochs=2, verbose=0)
    return clf


def test_trgan_carries_source_into_colour_target_and_freezes_d(colour16):
    keras.utils.set_random_seed(0)
    source = create_model("dcgan", tiny=True)
    printed = []
    result = recipes.trgan(source, colour16.take(1), channels=3, freeze_d=2, augment="diffaugment",
                           l2_sp=(0.01, 0.0), report_to=printed.append)
    model = result.model
    assert model.channels == 3 and isinstance(model.augment, DiffAugment) and isinstance(model.weight_penalty, L2SP)
    assert result.report.by_status("adapted") == [
        "generator/g_out_deconv/kernel", "generator/g_out_deconv/bias", "discriminator/d_block1_conv/kernel"]
    assert "Transfer report" in printed[0] and "Freeze summary" in printed[0]
    # Freeze-D froze blocks 1-2 except block 1's conv, adapted to colour (frozen, D would be colour-blind)
    d = model.discriminator
    assert d.get_layer("d_block1_conv").trainable and not d.get_layer("d_block2_conv").trainable
    adapted = np.repeat(source.discriminator.get_layer("d_block1_conv").kernel.numpy(), 3, 2) / 3
    assert not np.allclose(d.get_layer("d_block1_conv").kernel.numpy(), adapted)  # it trained
    np.testing.assert_array_equal(d.get_layer("d_block2_conv").kernel.numpy(),
                                  source.discriminator.get_layer("d_block2_conv").kernel.numpy())
    assert result.freeze.parts["discriminator"]["frozen"] > 0
    assert result.history["step"] == [1]


def test_freeze_d_freezes_whole_blocks_without_a_channel_change(colour16):
    source = create_model("dcgan", tiny=True, channels=3)
    before = source.discriminator.get_layer("d_block1_conv").kernel.numpy().copy()
    result = recipes.trgan(source, colour16.take(1), freeze_d=1)
    assert result.freeze.parts["discriminator"]["frozen"] > 0
    np.testing.assert_array_equal(result.model.discriminator.get_layer("d_block1_conv").kernel.numpy(), before)


def test_trgan_rejects_a_non_gan_source(colour16, source_classifier):
    with pytest.raises(ValueError, match="trgan: needs a GAN source"):
        recipes.trgan(source_classifier, colour16)
    with pytest.raises(ValueError, match="augment must be one of"):
        recipes.trgan(create_model("dcgan", tiny=True), colour16, augment="mixup")


def test_tgan_keeps_the_source_feature_extractor_frozen(colour16, source_classifier):
    keras.utils.set_random_seed(0)
    result = recipes.tgan(source_classifier, colour16.take(2), latent_dim=8, g_filters=8, d_filters=8)
    model = result.model
    backbone_paths = {p for p in named_weights(model) if p.startswith("generator/c_block")}
    assert backbone_paths and backbone_paths <= set(result.report.copied)
    for layer in source_classifier.backbone.layers:  # trained: still the source's weights
        for ours, theirs in zip(model.backbone.get_layer(layer.name).weights, layer.weights):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert result.freeze.parts["generator"]["frozen"] > 0
    samples = model.generate(next(iter(colour16))[:4].numpy(), seed=1)
    assert samples.shape == (4, 16, 16, 3) and np.isfinite(samples).all()


def test_ctgan_trains_a_conditional_gan_on_pseudo_labels(colour16, source_classifier):
    keras.utils.set_random_seed(0)
    images = np.concatenate([b.numpy() for b in colour16])
    labels, confidence, keep = recipes.pseudo_label(source_classifier, images)
    gray = images.mean(-1, keepdims=True)
    np.testing.assert_array_equal(labels, np.argmax(source_classifier(gray).numpy(), -1))
    result = recipes.ctgan(source_classifier, images, batch_size=16,
                           model_args=dict(latent_dim=8, g_filters=8, d_filters=8))
    assert result.model.num_classes == 10 and result.model.channels == 3
    assert result.extra["pseudo_label_counts"] == np.bincount(labels, minlength=10).tolist()
    assert result.extra["kept"] == len(images) and result.history["step"] == [2]
    with pytest.raises(ValueError, match="reach confidence"):
        recipes.ctgan(source_classifier, images, batch_size=16, min_confidence=1.01)


@pytest.fixture(scope="module")
def digits_classifier16():
    """A tiny classifier trained on 512 digits: features good enough for a new head to learn from."""
    keras.utils.set_random_seed(0)
    clf = create_model("classifier", tiny=True)
    compile_for_training(clf)
    clf.fit(load_dataset("digits", image_size=16, batch_size=32, limit=512, labels=True), epochs=6, verbose=0)
    return clf


def test_finetune_trains_the_head_frozen_then_everything(labelled16, digits_classifier16):
    source_classifier = digits_classifier16
    keras.utils.set_random_seed(0)
    three = load_dataset("digits:0-2", image_size=16, batch_size=16, limit=64, labels=True, drop_remainder=True,
                         shuffle=False)  # a new 3-class task on the source's kind of images
    result = recipes.finetune_classifier(source_classifier, three, num_classes=3, head_epochs=8,
                                         learning_rate=1e-2, finetune_epochs=0, validation_data=three)
    model = result.model
    assert model.num_classes == 3 and set(result.report.by_status("not loaded")) == {
        "classifier_head/c_logits/kernel", "classifier_head/c_logits/bias"}
    for ours, theirs in zip(model.backbone.weights, source_classifier.backbone.weights):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # phase 1: backbone frozen
    assert result.extra["head_accuracy"] > 0.6  # chance: 1/3 (the head alone learns on frozen features)
    before = _values(model, "backbone/")
    fit(model, three, 1, model.distribute_strategy)
    assert not _changed(before, model)
    full = recipes.finetune_classifier(source_classifier, three, num_classes=3, finetune_epochs=1)
    kernels = {p for p in _values(full.model, "backbone/") if p.endswith("kernel")}
    frozen_source = {f"backbone/{w.path}": w.numpy() for w in source_classifier.backbone.weights}
    assert kernels <= _changed(frozen_source, full.model)  # phase 2: every conv kernel moved
    assert set(full.history) >= {"head/loss", "finetune/loss"}


def test_finetune_from_a_gan_discriminator(labelled16):
    result = recipes.finetune_classifier(create_model("dcgan", tiny=True), labelled16, num_classes=10,
                                         finetune_epochs=0)
    assert set(result.report.by_status("missing in source")) == {
        "classifier_head/c_logits/kernel", "classifier_head/c_logits/bias"}
    assert all(p.startswith("backbone/d_block") for p in result.report.copied)


def test_augment_with_generator_adds_labelled_samples(labelled16):
    x, y = next(iter(labelled16))
    acgan = create_model("acgan", tiny=True)
    images, labels = recipes.augment_with_generator(x.numpy(), y.numpy(), acgan, per_class=2, seed=3)
    assert images.shape == (16 + 20, 16, 16, 1)
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.bincount(y.numpy(), minlength=10) + 2)
    with pytest.raises(ValueError, match="not a conditional generator"):
        recipes.augment_with_generator(x.numpy(), y.numpy(), create_model("dcgan", tiny=True), per_class=1)
    keras.utils.set_random_seed(0)
    result = recipes.augmented_classifier(acgan, x.numpy(), y.numpy(), per_class=2, batch_size=8, epochs=15,
                                          validation_data=labelled16, classifier_args=dict(filters=8, blocks=2))
    assert result.extra["generated"] == 20 and result.extra["real"] == 16
    assert result.extra["accuracy"] > 0.2 and result.history["step"][-1] == 15 * 4  # chance: 0.1 (10 digits)


@pytest.mark.parametrize("kind, head", [("classifier", "c_logits"), ("acgan", "d_class_logits")])
def test_pseudo_labels_carry_the_sources_own_confidence(kind, head):
    """Both source kinds: the confidence is the source's probability (no second softmax), so a threshold works."""
    keras.utils.set_random_seed(0)
    source = create_model(kind, tiny=True)
    layer = next(layer for part in source.layers for layer in getattr(part, "layers", []) if layer.name == head)
    bias = np.zeros(10, np.float32)
    bias[3] = 8.0  # class 3 dominates: its probability is near 1
    layer.bias.assign(bias)
    images = np.random.default_rng(0).uniform(-1, 1, (24, 16, 16, 1)).astype("float32")
    labels, confidence, keep = recipes.pseudo_label(source, images, min_confidence=0.5)
    np.testing.assert_allclose(confidence, source.class_probabilities(images).max(-1), rtol=1e-5)
    assert (labels == 3).all() and keep.all() and confidence.min() > 0.9
    result = recipes.ctgan(source, images, batch_size=8, min_confidence=0.5,
                           model_args=dict(latent_dim=8, g_filters=8, d_filters=8))
    assert result.extra["kept"] == 24 and result.extra["pseudo_label_counts"][3] == 24
    with pytest.raises(ValueError, match="reach confidence"):
        recipes.ctgan(source, images, batch_size=8, min_confidence=0.9999)
