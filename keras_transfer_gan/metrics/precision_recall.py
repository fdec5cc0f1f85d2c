"""Improved precision and recall (Kynkäänniemi et al., 2019) with k-nearest-neighbour manifolds."""

import numpy as np

from keras_transfer_gan.metrics.frechet import check_features


def squared_distances(a, b):
    """Pairwise squared Euclidean distances between the rows of `a` and `b` (clipped at 0)."""
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0)


def _radii(features, k):
    d = squared_distances(features, features)
    return np.sqrt(np.partition(d, k, axis=1)[:, k])  # column 0 is the point itself


def _coverage(points, manifold, radii, batch=1024):
    inside = []
    for i in range(0, len(points), batch):
        d = np.sqrt(squared_distances(points[i:i + batch], manifold))
        inside.append((d <= radii[None, :]).any(axis=1))
    return float(np.concatenate(inside).mean())


def precision_recall(real_features, fake_features, k=3):
    """``(precision, recall)``.

    Each set's manifold is the union of balls around its points reaching their
    k-th nearest neighbour in the same set. Precision: the fraction of fake
    samples inside the real manifold; recall: the fraction of real samples
    inside the fake manifold.
    """
    real, fake = check_features(real_features, "precision_recall"), check_features(fake_features, "precision_recall")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"precision_recall: feature sizes differ: {real.shape[1]} and {fake.shape[1]}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < min(len(real), len(fake)):
        raise ValueError(f"precision_recall: k must be an integer in [1, {min(len(real), len(fake)) - 1}], got {k!r}")
    return _coverage(fake, real, _radii(real, k)), _coverage(real, fake, _radii(fake, k))
