"""Evaluate a generator against real data: FID, KID, IS and precision/recall on one extractor's features."""

import os

import numpy as np

from keras_transfer_gan.data import load_images, parse_spec
from keras_transfer_gan.metrics.appearance import appearance_extractor
from keras_transfer_gan.metrics.feature_extractor import FeatureExtractor
from keras_transfer_gan.metrics.frechet import frechet_distance, statistics
from keras_transfer_gan.metrics.inception_score import inception_score
from keras_transfer_gan.metrics.kid import kid
from keras_transfer_gan.metrics.precision_recall import precision_recall
from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.transfer.loading.pretrained import load_pretrained
from keras_transfer_gan.utils.atomic import atomic_path
from keras_transfer_gan.utils.digest import array_digest

METRICS = ("fid", "kid", "is", "pr")

#: The zoo evaluator of each data domain: a classifier trained on that domain's train split.
DOMAIN_EXTRACTORS = {
    "fashion_mnist": "fashion_classifier",
    "mnist": "mnist_classifier",
    "mnist_m": "mnist_m_appearance",
    "fashion_sketch": "fashion_sketch_classifier",
    "digits": "digits_classifier",
    "digits_m": "digits_classifier",
}


#: The second, independently trained evaluator of each real domain: a VAE's encoder (another architecture and
#: objective: reconstruction, which must keep colour and stroke), its posterior means as features. A study
#: reports FID under both and calls a verdict that flips between them a flip, not a result.
SECOND_EXTRACTORS = {
    "fashion_mnist": "vae_fashion",
    "mnist": "vae_mnist",
    "mnist_m": "vae_mnist_m",
    "fashion_sketch": "vae_fashion_sketch",
}


#: Evaluators that add the images' colour statistics to a zoo classifier's features (`metrics.appearance`):
#: name -> (classifier, colour weight, grid). The weight is `balanced_colour_weight` on 2,000 MNIST-M train
#: images (seed 0): the colour block's total variance equals the classifier's.
APPEARANCE_EVALUATORS = {"mnist_m_appearance": ("mnist_m_classifier", 1.85, 4)}


def extractor_for(spec):
    """The zoo evaluator of a dataset spec's domain (``"fashion_mnist:3,9"`` -> ``"fashion_classifier"``).

    Other data (folders, arrays, TFDS, faces) get ``"digits_classifier"``, the offline default.
    """
    parsed = parse_spec(spec)
    return DOMAIN_EXTRACTORS.get(parsed.name, "digits_classifier") if parsed.kind == "builtin" else "digits_classifier"


def second_extractor_for(spec):
    """The second evaluator of a dataset spec's domain (`SECOND_EXTRACTORS`), or None where it has none."""
    parsed = parse_spec(spec)
    return SECOND_EXTRACTORS.get(parsed.name) if parsed.kind == "builtin" else None


def split_halves(items, seed=0):
    """Two disjoint halves of equal size (a fixed permutation by `seed`; an odd last item is left out)."""
    order = np.random.default_rng(seed).permutation(len(items))
    half = len(items) // 2
    if half < 2:
        raise ValueError(f"split_halves: need at least 4 items, got {len(items)}")
    return order[:half], order[half:2 * half]


def get_extractor(name_or_model="digits_classifier"):
    """``"digits_classifier"`` (the zoo's offline extractor), ``"inception"`` (InceptionV3, downloads
    ImageNet weights), an appearance evaluator (`APPEARANCE_EVALUATORS`: ``"mnist_m_appearance"``), a path or
    zoo name of an `ImageClassifier` or of another model with a `feature_network` (a VAE: its encoder's means),
    a Keras model, or a `FeatureExtractor`."""
    if isinstance(name_or_model, FeatureExtractor):
        return name_or_model
    if name_or_model == "inception":
        return FeatureExtractor.inception()
    for key, (classifier, weight, grid) in APPEARANCE_EVALUATORS.items():  # by name, or by the name it reports
        if name_or_model in (key, f"{key}-w{weight:g}-g{grid}"):
            return appearance_extractor(load_pretrained(classifier), weight, grid, name=key)
    if isinstance(name_or_model, str):
        model = load_pretrained(name_or_model)
        name = os.path.basename(name_or_model.rstrip("/"))
    else:
        model, name = name_or_model, getattr(name_or_model, "name", "custom")
    if isinstance(model, Architecture) and model.family == "classifier":
        return FeatureExtractor.from_classifier(model, name=name)
    if isinstance(model, Architecture):  # e.g. a VAE: its encoder's means (`feature_network`)
        return FeatureExtractor(model.feature_network(), None, model.image_size, model.channels, name=name)
    return FeatureExtractor(model, name=name)


def cache_dir():
    return os.environ.get("KTG_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "keras_transfer_gan")


def reference_features(extractor, images, key=None, use_cache=True):
    """Features of real images, cached on disk under `key` (e.g. ``"digits_m-100-32"``) per extractor."""
    if key is None or not use_cache:
        return extractor.features(images)
    digest = array_digest(images[: min(len(images), 64)])[:12]
    path = os.path.join(cache_dir(), "reference", f"{extractor.cache_name}-{key}-{len(images)}-{digest}.npy")
    if os.path.isfile(path):
        return np.load(path)
    features = extractor.features(images)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, features)
    return features


def evaluate_samples(real_images, fake_images, extractor="digits_classifier", metrics=METRICS, kid_subsets=50,
                     pr_k=3, is_splits=None, reference_key=None, seed=0, kid_subset_size=1000, fake_features=None):
    """Every requested metric between real and generated images, as a flat dict.

    `fake_features`: the extractor's features of `fake_images` when the caller has them already (not computed
    again).

    Returns keys ``fid``, ``kid`` / ``kid_std``, ``is`` / ``is_std``,
    ``precision`` / ``recall``, plus ``n_real``, ``n_fake`` and ``extractor``.
    """
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r} (choose from {', '.join(METRICS)})")
    extractor = get_extractor(extractor)
    real = reference_features(extractor, real_images, reference_key) if any(m != "is" for m in metrics) else None
    fake = None
    if any(m != "is" for m in metrics):
        fake = extractor.features(fake_images) if fake_features is None else np.asarray(fake_features, np.float64)
    out = {"n_real": int(len(real_images)), "n_fake": int(len(fake_images)), "extractor": extractor.name}
    if "fid" in metrics:
        out["fid"] = frechet_distance(*statistics(real), *statistics(fake))
    if "kid" in metrics:
        out["kid"], out["kid_std"] = kid(real, fake, num_subsets=kid_subsets, subset_size=kid_subset_size, seed=seed)
    if "is" in metrics:
        splits = is_splits or max(1, min(10, len(fake_images) // 50))
        out["is"], out["is_std"] = inception_score(extractor.probabilities(fake_images), splits=splits)
    if "pr" in metrics:
        out["precision"], out["recall"] = precision_recall(real, fake, k=min(pr_k, len(real) - 1, len(fake) - 1))
    return out


def generate_images(model, n, seed=0, conditions=None, labels=None):
    """`n` images from any zoo generator: a label-conditioned one takes `labels` (None cycles through its
    classes), an image-conditioned one `conditions` (required); others take neither."""
    if not isinstance(model, Architecture) or model.generates != "images":
        raise ValueError(f"{type(model).__name__} does not generate images")
    given = {"labels": labels, "images": conditions}.get(model.conditions)
    return np.asarray(model.sample(n, conditions=given, seed=seed))


def evaluate_generator(model, spec, extractor="auto", split="test", seed=0, metrics=METRICS, data_dir=None):
    """Score a generator against held-out real images, beside the floor of the same measurement.

    The real images of `spec` and `split` (the test split: never trained on) are cut into two
    disjoint halves A and B (`split_halves`). The generator draws as many samples as B holds
    (conditional models: B's labels) and is measured against A; the **floor** is B measured
    against A, what a perfect generator would score with the same sample sizes. KID uses subsets
    of half a set, so its spread means something.

    Returns:
        `evaluate_samples`' keys plus ``floor_fid``, ``floor_kid``, ``floor_precision``,
        ``floor_recall``, ``fid_over_floor``, ``split`` and ``dataset``.
    """
    extractor = get_extractor(extractor_for(spec) if extractor == "auto" else extractor)
    conditional = bool(getattr(model, "num_classes", 0))
    real, labels = load_images(spec, image_size=model.image_size, channels=model.channels, labels=conditional,
                               split=split, data_dir=data_dir)
    a, b = split_halves(real, seed)
    key = f"{spec}-{split}-{model.image_size}x{model.channels}-half{seed}"
    fake = generate_images(model, len(b), seed=seed + 1, labels=None if labels is None else labels[b])
    size = max(2, len(b) // 2)
    result = evaluate_samples(real[a], fake, extractor, metrics, reference_key=key + "A", seed=seed,
                              kid_subset_size=size)
    floor = evaluate_samples(real[a], real[b], extractor, [m for m in ("fid", "kid", "pr") if m in metrics],
                             reference_key=key + "A", seed=seed, kid_subset_size=size)
    for name in ("fid", "kid", "precision", "recall"):
        if name in floor:
            result[f"floor_{name}"] = floor[name]
    if "fid" in result:
        result["fid_over_floor"] = result["fid"] / max(floor["fid"], 1e-12)
    result.update(split=split, dataset=spec)
    return result
