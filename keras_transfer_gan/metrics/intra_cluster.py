"""Intra-cluster distance: the diversity measure few-shot papers report as intra-LPIPS, on evaluator features.

Ojha et al. (2021) assign each generated image to its nearest training image (by LPIPS) and average the
pairwise LPIPS distance within each cluster, then over clusters: a generator that copies its N images scores
0, one that varies around them scores more. LPIPS needs VGG weights that cannot be installed here, so the
distances are Euclidean between the domain evaluator's features (a departure, named in the README).
"""

import numpy as np

from keras_transfer_gan.metrics.precision_recall import squared_distances


def intra_cluster_distance(sample_features, train_features):
    """Mean over clusters (with two or more members) of the mean pairwise distance between the samples
    assigned to the same nearest training image. 0 when no cluster has two members."""
    samples = np.asarray(sample_features, np.float64)
    train = np.asarray(train_features, np.float64)
    if samples.ndim != 2 or train.ndim != 2 or samples.shape[1] != train.shape[1]:
        raise ValueError(f"intra_cluster_distance: features must be (n, d) alike, got {samples.shape}, {train.shape}")
    nearest = squared_distances(samples, train).argmin(axis=1)
    means = []
    for cluster in np.unique(nearest):
        members = samples[nearest == cluster]
        if len(members) < 2:
            continue
        d = np.sqrt(squared_distances(members, members))  # clipped at 0 there
        means.append(d[np.triu_indices(len(members), k=1)].mean())
    return float(np.mean(means)) if means else 0.0
