"""Metrics: FID, KID, Inception Score and precision/recall on features from a pluggable extractor."""

from keras_transfer_gan.metrics.appearance import appearance_extractor, balanced_colour_weight
from keras_transfer_gan.metrics.evaluation import (
    APPEARANCE_EVALUATORS,
    DOMAIN_EXTRACTORS,
    METRICS,
    SECOND_EXTRACTORS,
    evaluate_generator,
    evaluate_samples,
    extractor_for,
    generate_images,
    get_extractor,
    reference_features,
    second_extractor_for,
    split_halves,
)
from keras_transfer_gan.metrics.feature_extractor import FeatureExtractor
from keras_transfer_gan.metrics.frechet import fid, frechet_distance, statistics
from keras_transfer_gan.metrics.inception_score import inception_score
from keras_transfer_gan.metrics.intra_cluster import intra_cluster_distance
from keras_transfer_gan.metrics.kid import kid, polynomial_mmd2
from keras_transfer_gan.metrics.perplexity import perplexity
from keras_transfer_gan.metrics.precision_recall import precision_recall

__all__ = [
    "APPEARANCE_EVALUATORS",
    "DOMAIN_EXTRACTORS",
    "FeatureExtractor",
    "METRICS",
    "SECOND_EXTRACTORS",
    "appearance_extractor",
    "balanced_colour_weight",
    "evaluate_generator",
    "evaluate_samples",
    "extractor_for",
    "fid",
    "frechet_distance",
    "generate_images",
    "get_extractor",
    "inception_score",
    "intra_cluster_distance",
    "kid",
    "perplexity",
    "polynomial_mmd2",
    "precision_recall",
    "reference_features",
    "second_extractor_for",
    "split_halves",
    "statistics",
]
