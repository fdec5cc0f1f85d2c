"""Metric correctness: closed forms, symmetry, unbiasedness, known answers."""

import os

import keras
import numpy as np
import pytest
from scipy import linalg

from keras_transfer_gan import create_model
from keras_transfer_gan.metrics import (FeatureExtractor, evaluate_samples, fid, frechet_distance, inception_score,
                                        kid, precision_recall, statistics)

RNG = np.random.default_rng(0)


def test_fid_of_gaussians_matches_the_closed_form():
    # diagonal covariances: ||mu1-mu2||^2 + sum (s1 + s2 - 2 sqrt(s1 s2))
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 1.0, 1.0])
    expected = 1 + 4 + (1 + 4 - 2 * 2) + (4 + 1 - 2 * 2) + (9 + 1 - 2 * 3)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, abs=1e-9)
    # full covariances against scipy's sqrtm on a well-conditioned case
    a, b = RNG.standard_normal((5, 5)), RNG.standard_normal((5, 5))
    c1, c2 = a @ a.T + np.eye(5), b @ b.T + np.eye(5)
    reference = np.trace(c1 + c2 - 2 * linalg.sqrtm(c1 @ c2).real)
    assert frechet_distance(np.zeros(5), c1, np.zeros(5), c2) == pytest.approx(reference, rel=1e-8)
    # sampled: FID of two large Gaussian samples approaches the closed form
    x = RNG.multivariate_normal(mu1, s1, 20000)
    y = RNG.multivariate_normal(mu2, s2, 20000)
    assert fid(x, y) == pytest.approx(expected, rel=0.03)


def test_fid_is_zero_on_itself_symmetric_and_stable_when_singular():
    x, y = RNG.standard_normal((300, 8)), RNG.standard_normal((300, 8)) + 0.5
    assert fid(x, x) == pytest.approx(0.0, abs=1e-8)
    assert fid(x, y) == pytest.approx(fid(y, x), rel=1e-9)
    # 50 samples in 200 dimensions: rank-deficient covariances, still finite, real and ~0 on itself
    z = RNG.standard_normal((50, 200))
    assert np.isfinite(fid(z, z + 1e-3)) and fid(z, z) == pytest.approx(0.0, abs=1e-6)
    assert fid(z, z + 1.0) == pytest.approx(200.0, rel=1e-6)  # a pure shift of 1 in 200 dims
    with pytest.raises(ValueError, match="NaN or Inf"):
        fid(np.full((4, 2), np.nan), z[:, :2])


def test_kid_expectation_is_zero_for_one_distribution_and_positive_otherwise():
    same = [kid(RNG.standard_normal((200, 16)), RNG.standard_normal((200, 16)), num_subsets=20, seed=s)[0]
            for s in range(10)]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(10) + 1e-3
    shifted, std = kid(RNG.standard_normal((200, 16)), RNG.standard_normal((200, 16)) + 1.0, num_subsets=20)
    assert shifted > 10 * max(abs(np.mean(same)), 1e-4) and std >= 0


def test_inception_score_of_confident_uniform_predictions_is_the_class_count():
    probabilities = np.eye(10)[np.arange(1000) % 10]
    mean, std = inception_score(probabilities, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-6) and std == pytest.approx(0.0, abs=1e-6)
    assert inception_score(np.full((100, 10), 0.1), splits=2)[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="probability distribution"):
        inception_score(np.ones((10, 3)))


def test_precision_recall_on_synthetic_clusters():
    real = np.concatenate([RNG.normal(0, 0.1, (200, 2)), RNG.normal(10, 0.1, (200, 2))])
    only_first = RNG.normal(0, 0.1, (200, 2))          # mode collapse: precise, half the recall
    far = RNG.normal(50, 0.1, (200, 2))                # nothing real-looking
    p, r = precision_recall(real, only_first)
    assert p > 0.95 and 0.45 < r < 0.55
    assert precision_recall(real, far) == (0.0, 0.0)
    p, r = precision_recall(real, real.copy())
    assert p == 1.0 and r == 1.0


def test_evaluate_samples_with_a_classifier_extractor():
    keras.utils.set_random_seed(0)
    clf = create_model("classifier", tiny=True)
    extractor = FeatureExtractor.from_classifier(clf)
    real = RNG.uniform(-1, 1, (64, 32, 32, 3)).astype("float32")  # resized to 16 and averaged to gray
    result = evaluate_samples(real, real[::-1].copy(), extractor=extractor, kid_subsets=5)
    assert result["fid"] == pytest.approx(0.0, abs=1e-6) and result["precision"] == 1.0
    assert set(result) >= {"fid", "kid", "kid_std", "is", "is_std", "precision", "recall"}
    assert 1.0 <= result["is"] <= 10.0
    with pytest.raises(ValueError, match="unknown metric 'lpips'"):
        evaluate_samples(real, real, extractor=extractor, metrics=("lpips",))
    assert statistics(extractor.features(real))[0].shape == (48,)  # colour on a gray extractor: 3 x 16 features


def test_reference_features_are_cached_by_the_evaluators_weights(tmp_path, monkeypatch):
    """Retraining an evaluator under the same name gets new cached real features, never its old ones."""
    from keras_transfer_gan import create_model
    from keras_transfer_gan.metrics import FeatureExtractor, reference_features

    monkeypatch.setenv("KTG_CACHE_DIR", str(tmp_path))
    clf = create_model("classifier", tiny=True)
    images = np.random.default_rng(0).uniform(-1, 1, (20, 16, 16, 1)).astype("float32")
    first = reference_features(FeatureExtractor.from_classifier(clf, name="evaluator"), images, key="set")
    np.testing.assert_array_equal(first, reference_features(
        FeatureExtractor.from_classifier(clf, name="evaluator"), images, key="set"))  # the same weights: cached
    kernel = clf.backbone.get_layer("c_block1_conv1").kernel
    kernel.assign(kernel.numpy() * 1.5)  # "retrained": same name, other weights
    retrained = FeatureExtractor.from_classifier(clf, name="evaluator")
    second = reference_features(retrained, images, key="set")
    np.testing.assert_allclose(second, retrained.features(images), atol=1e-6)
    assert not np.allclose(first, second)
    assert len(os.listdir(tmp_path / "reference")) == 2


def test_intra_cluster_distance_on_known_clusters():
    """Samples go to their nearest training point; pairwise distances are averaged within each cluster, then
    over clusters; a copier of its training points scores 0; a cluster of one sample counts for nothing."""
    from keras_transfer_gan.metrics import intra_cluster_distance

    train = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 50.0]])
    samples = np.array([[0.0, 0.0], [1.0, 0.0],  # cluster 0: one pair at distance 1
                        [10.0, 0.0], [10.0, 3.0], [10.0, 3.0],  # cluster 1: distances 3, 3, 0 -> 2
                        [0.0, 49.0]])  # cluster 2: alone
    assert intra_cluster_distance(samples, train) == pytest.approx((1.0 + 2.0) / 2)
    assert intra_cluster_distance(np.repeat(train, 4, axis=0), train) == 0.0
    with pytest.raises(ValueError, match="features must be"):
        intra_cluster_distance(samples, train[:, :1])
