"""Fréchet distance between Gaussians fitted to features (FID when the features are InceptionV3's)."""

import numpy as np


def _sqrt_psd(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def statistics(features):
    """``(mean, covariance)`` of features ``(n, d)`` (float64, covariance with n - 1)."""
    features = check_features(features, "statistics")
    if len(features) < 2:
        raise ValueError(f"statistics: need at least 2 feature vectors, got {len(features)}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """``||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``.

    The trace of the matrix square root is computed as the sum of the square
    roots of the eigenvalues of ``S1^(1/2) S2 S1^(1/2)`` (symmetric PSD), which
    stays real and stable when the covariances are near-singular (fewer samples
    than feature dimensions), where `scipy.linalg.sqrtm` of ``S1 S2`` returns
    complex noise.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"frechet_distance: shapes differ: mu {mu1.shape} / {mu2.shape}, "
                         f"sigma {sigma1.shape} / {sigma2.shape}")
    root = _sqrt_psd(sigma1)
    middle = root @ sigma2 @ root
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None)).sum()
    value = float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)
    return max(value, 0.0)


def fid(features_a, features_b):
    """Fréchet distance between the Gaussians of two feature sets ``(n, d)``."""
    return frechet_distance(*statistics(features_a), *statistics(features_b))


def check_features(features, who):
    """`features` as float64 ``(n, d)``, finite; a one-line error naming `who` otherwise."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2:
        raise ValueError(f"{who}: features must be shaped (n, d), got {features.shape}")
    if not np.isfinite(features).all():
        raise ValueError(f"{who}: features contain NaN or Inf")
    return features
