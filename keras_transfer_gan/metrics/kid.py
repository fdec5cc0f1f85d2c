"""Kernel Inception Distance (Bińkowski et al., 2018): unbiased MMD^2 with a cubic polynomial kernel."""

import numpy as np

from keras_transfer_gan.metrics.frechet import check_features


def polynomial_mmd2(x, y):
    """Unbiased MMD^2 between samples with ``k(a, b) = (a.b / d + 1)^3``."""
    d = x.shape[1]
    kxx = (x @ x.T / d + 1.0) ** 3
    kyy = (y @ y.T / d + 1.0) ** 3
    kxy = (x @ y.T / d + 1.0) ** 3
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.mean())


def kid(features_a, features_b, num_subsets=100, subset_size=1000, seed=0):
    """``(mean, std)`` of the unbiased MMD^2 over `num_subsets` random subsets of `subset_size` (capped by n)."""
    a, b = check_features(features_a, "kid"), check_features(features_b, "kid")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"kid: feature sizes differ: {a.shape[1]} and {b.shape[1]}")
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError(f"kid: need at least 2 samples in each set, got {len(a)} and {len(b)}")
    rng = np.random.default_rng(seed)
    values = [polynomial_mmd2(a[rng.choice(len(a), size, replace=False)], b[rng.choice(len(b), size, replace=False)])
              for _ in range(num_subsets)]
    return float(np.mean(values)), float(np.std(values))
