import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_transfer_gan.data import load_dataset, load_images, parse_spec


def test_digits_shape_range_and_labels():
    images, labels = load_images("digits", image_size=32, labels=True)
    assert images.shape == (1797, 32, 32, 1) and images.dtype == np.float32
    assert images.min() == pytest.approx(-1.0) and images.max() == pytest.approx(1.0)
    assert labels.dtype == np.int32 and set(np.unique(labels)) == set(range(10))
    # Background is black (-1), strokes bright, as in MNIST.
    assert np.mean(images[:, :3, :3]) < -0.95 and np.mean(images[:, 12:20, 12:20]) > -0.5


def test_load_dataset_batches_prefetched_with_labels():
    ds = load_dataset("digits:5,7", image_size=16, batch_size=10, labels=True, limit=40)
    batches = list(ds)
    assert sum(int(x.shape[0]) for x, _ in batches) == 40
    x, y = batches[0]
    assert x.shape == (10, 16, 16, 1) and x.dtype == tf.float32 and y.dtype == tf.int32
    assert set(np.concatenate([y.numpy() for _, y in batches])) == {5, 7}


def test_class_range_filter():
    _, labels = load_images("digits:0-4", labels=True)
    assert set(np.unique(labels)) == {0, 1, 2, 3, 4}
    assert len(labels) == 901  # 178+182+177+183+181 in scikit-learn's digits


def test_limit_is_fixed_and_seeded():
    a, _ = load_images("digits", limit=25, seed=3)
    b, _ = load_images("digits", limit=25, seed=3)
    c, _ = load_images("digits", limit=25, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape[0] == 25


def test_faces_are_the_100_faces_of_lfw_subset():
    images, _ = load_images("faces", image_size=32)
    assert images.shape == (100, 32, 32, 1)
    assert images.std() > 0.2


def test_digits_m_is_three_channel_texture_blend():
    images, labels = load_images("digits_m", labels=True)
    assert images.shape == (1797, 32, 32, 3) and len(labels) == 1797
    # Colour: the channels differ (not a gray image repeated), and backgrounds vary.
    assert np.abs(images[..., 0] - images[..., 1]).mean() > 0.02
    assert images.reshape(1797, -1).mean(axis=1).std() > 0.05


def test_channel_conversion_both_ways():
    rgb, _ = load_images("digits", channels=3, limit=5)
    assert rgb.shape[-1] == 3
    np.testing.assert_allclose(rgb[..., 0], rgb[..., 2])
    gray, _ = load_images("digits_m", channels=1, limit=5)
    assert gray.shape[-1] == 1


def test_folder_with_class_subfolders(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        os.makedirs(tmp_path / cls)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    images, labels = load_images(str(tmp_path), image_size=16, labels=True)
    assert images.shape == (6, 16, 16, 3)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    dogs, dog_labels = load_images(f"{tmp_path}:dogs", image_size=16, labels=True)
    assert dogs.shape[0] == 3 and set(dog_labels) == {1}


def test_npz_and_npy_arrays(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (12, 28, 28), dtype=np.uint8)
    y = np.arange(12) % 3
    np.savez(tmp_path / "d.npz", x=x, y=y)
    np.save(tmp_path / "d.npy", x)
    images, labels = load_images(str(tmp_path / "d.npz"), image_size=32, labels=True)
    assert images.shape == (12, 32, 32, 1) and labels.tolist() == y.tolist()
    only, _ = load_images(str(tmp_path / "d.npy"), image_size=28)
    np.testing.assert_allclose(only[..., 0], x / 255.0 * 2 - 1, atol=1e-6)
    sub, sub_labels = load_images(f"{tmp_path / 'd.npz'}:2", labels=True)
    assert sub.shape[0] == 4 and set(sub_labels) == {2}


def test_tfds_by_name_offline_with_mock_data(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=20):
        ds = load_dataset("tfds:mnist:train", image_size=32, batch_size=8, labels=True, data_dir=str(tmp_path))
        x, y = next(iter(ds))
        assert x.shape == (8, 32, 32, 1) and y.dtype == tf.int32
        assert -1.0 <= float(tf.reduce_min(x)) and float(tf.reduce_max(x)) <= 1.0
        few, _ = load_images("tfds:mnist", limit=5, seed=1)
        again, _ = load_images("tfds:mnist", limit=5, seed=1)
        np.testing.assert_array_equal(few, again)


def test_spec_parsing():
    assert parse_spec("digits:0-2,7").classes == (0, 1, 2, 7)
    spec = parse_spec("tfds:cifar10:test:3")
    assert (spec.kind, spec.name, spec.split, spec.classes) == ("tfds", "cifar10", "test", (3,))


def _bad_folder(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image at all")
    return str(tmp_path)


@pytest.mark.parametrize(
    "make_spec, kwargs, message",
    [
        (lambda p: "mnist_typo", {}, "unknown dataset 'mnist_typo'"),
        (lambda p: str(p), {}, "no image files"),
        (_bad_folder, {}, "unreadable image"),
        (lambda p: "digits:11", {}, "unknown class 11"),
        (lambda p: "digits", {"limit": 0}, "limit must be a positive integer"),
        (lambda p: "digits", {"limit": 5000}, "limit=5000 exceeds the 1797 images"),
        (lambda p: "faces", {"labels": True}, "has no labels"),
        (lambda p: "faces:1", {}, "needs labels"),
        (lambda p: "digits", {"split": "test"}, "unknown split 'test'"),
        (lambda p: "digits", {"channels": 2}, "channels must be 1, 3 or None"),
        (lambda p: "", {}, "non-empty string"),
        (lambda p: str(p / "missing.npz"), {}, "no such file"),
    ],
)
def test_bad_specs_raise_one_line_value_error(tmp_path, make_spec, kwargs, message):
    spec = make_spec(tmp_path)
    with pytest.raises(ValueError) as info:
        load_dataset(spec, **kwargs)
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert repr(spec) in text  # the message names the spec


# ------------------------------------------------------------------ streaming
def _all(ds):
    batches = list(ds.as_numpy_iterator())
    if isinstance(batches[0], tuple):
        return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    return np.concatenate(batches), None


@pytest.fixture
def image_files(tmp_path):
    """20 gray 20x20 PNGs in two class folders, the same as arrays, and .npy / .npz (stored, compressed)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 20, 20), dtype=np.uint8)
    y = np.arange(20, dtype=np.int32) % 2
    for i, (img, label) in enumerate(zip(x, y)):
        folder = tmp_path / "folder" / ("ab"[label])
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / f"{i:03d}.png")
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "stored.npz", x=x, y=y)
    np.savez_compressed(tmp_path / "packed.npz", images=x.astype(np.float32) / 127.5 - 1.0, labels=y)
    return tmp_path


@pytest.mark.parametrize("name, labels", [("folder", True), ("x.npy", False), ("stored.npz", True),
                                          ("packed.npz", True)])
def test_streamed_sources_give_the_in_memory_images_subset_and_order(image_files, name, labels):
    spec = str(image_files / name)
    for kwargs in ({}, {"limit": 7, "seed": 3}, {"limit": 5, "seed": 1, "channels": 3, "image_size": 16}):
        common = dict(image_size=kwargs.get("image_size", 32), channels=kwargs.get("channels"),
                      batch_size=4, labels=labels, seed=kwargs.get("seed", 0), limit=kwargs.get("limit"))
        streamed, s_labels = _all(load_dataset(spec, stream=True, **common))
        in_memory, m_labels = _all(load_dataset(spec, stream=False, **common))
        np.testing.assert_allclose(streamed, in_memory, atol=1e-5)  # same images, same shuffled order
        if labels:
            np.testing.assert_array_equal(s_labels, m_labels)
        subset, _ = load_images(spec, image_size=common["image_size"], channels=common["channels"],
                                limit=common["limit"], seed=common["seed"])
        assert sorted(map(bytes, np.round(streamed, 4))) == sorted(map(bytes, np.round(subset, 4)))


def test_streamed_folder_class_filter_repeat_and_errors(image_files):
    spec = str(image_files / "folder")
    ds = load_dataset(f"{spec}:b", batch_size=4, labels=True, drop_remainder=True, repeat=True)
    x, y = next(iter(ds))
    assert x.shape == (4, 32, 32, 1) and set(y.numpy()) == {1}
    with pytest.raises(ValueError, match="limit=30 exceeds the 20 images"):
        load_dataset(spec, limit=30)
    with pytest.raises(ValueError, match="make no full batch of 64"):
        load_dataset(spec, batch_size=64, drop_remainder=True)
    with pytest.raises(ValueError, match="labels=True but this data has no labels"):
        load_dataset(str(image_files / "x.npy"), labels=True)
    with pytest.raises(ValueError, match="stream must be"):
        load_dataset(spec, stream="yes")


def test_streamed_array_is_read_from_the_file_not_loaded(image_files, monkeypatch):
    """Streaming never calls np.load on the images (it reads rows with pread)."""
    def no_load(*args, **kwargs):
        raise AssertionError("np.load was called")

    expected = np.load(image_files / "x.npy") / 127.5 - 1.0
    monkeypatch.setattr(np, "load", no_load)
    x, _ = _all(load_dataset(str(image_files / "x.npy"), image_size=20, batch_size=8, shuffle=False))
    np.testing.assert_allclose(x[..., 0], expected, atol=1e-6)


def test_tfds_limit_is_exact_and_seeded_over_the_whole_split(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=40):
        every, labels = load_images("tfds:mnist", labels=True, data_dir=str(tmp_path))
        few, few_labels = load_images("tfds:mnist", limit=6, seed=2, labels=True, data_dir=str(tmp_path))
        # exactly the images of the seeded order over all 40, wherever they sit in the split
        index = np.sort(np.random.default_rng(2).permutation(40)[:6])
        np.testing.assert_allclose(few, every[index], atol=1e-6)
        np.testing.assert_array_equal(few_labels, labels[index])
        streamed, s_labels = _all(load_dataset("tfds:mnist", limit=6, seed=2, batch_size=4, labels=True,
                                               shuffle=False, data_dir=str(tmp_path)))
        np.testing.assert_allclose(streamed, few, atol=1e-6)
        wanted = int(labels[0])
        only, only_labels = _all(load_dataset(f"tfds:mnist:train:{wanted}", batch_size=4, labels=True,
                                              data_dir=str(tmp_path)))
        assert len(only) == int((labels == wanted).sum()) and set(only_labels) == {wanted}


def test_streamed_folder_of_mixed_sizes_and_modes(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (30, 20), dtype=np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(tmp_path / "b.jpg")
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(tmp_path / "c.webp")  # PIL-decoded
    x, _ = _all(load_dataset(str(tmp_path), image_size=24, batch_size=2, shuffle=False))
    assert x.shape == (3, 24, 24, 1)  # the first image's channels
    assert -1.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.1
    rgb, _ = _all(load_dataset(str(tmp_path), image_size=24, channels=3, batch_size=3))
    assert rgb.shape == (3, 24, 24, 3)
