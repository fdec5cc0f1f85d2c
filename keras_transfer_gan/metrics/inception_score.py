"""Inception Score (Salimans et al., 2016) from class probabilities."""

import numpy as np


def inception_score(probabilities, splits=10, eps=1e-12):
    """``(mean, std)`` over `splits` of ``exp(E_x KL(p(y|x) || p(y)))``.

    Args:
        probabilities: ``(n, classes)`` rows summing to 1 (a classifier's softmax).
        splits: int. Disjoint splits the score is averaged over. Defaults to 10.
    """
    p = np.asarray(probabilities, np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"inception_score: probabilities must be shaped (n, classes >= 2), got {p.shape}")
    if not np.allclose(p.sum(axis=1), 1.0, atol=1e-3) or (p < 0).any():
        raise ValueError("inception_score: each row must be a probability distribution (softmax outputs)")
    if isinstance(splits, bool) or not isinstance(splits, int) or not 1 <= splits <= len(p):
        raise ValueError(f"inception_score: splits must be an integer in [1, {len(p)}], got {splits!r}")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + eps) - np.log(marginal + eps))).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
