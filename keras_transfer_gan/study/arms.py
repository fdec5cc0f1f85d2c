"""The study's arms: transfer versus scratch under one step budget (`ktg study`, `tools/transfer_study.py`, the demo).

An arm trains a DCGAN-family generator on few-shot target images with one method and evaluates it against
a reference set (the target's test split) at fixed intervals. A method is a base and modifiers joined by
``+``:

- bases: ``scratch`` (the source's architecture, freshly initialised, target channels), or a task that builds a
  GAN target (`Task.build_target`): ``trgan`` (initialised from the source, heads rebuilt for the target's
  channels, G and D fine-tuned); the modifiers below are that task's options;
- ``freeze_d``: the discriminator's first `freeze_d` blocks frozen (Freeze-D), except layers adapted to a
  new channel count;
- ``diffaugment`` / ``ada``: augmentation on D's input;
- ``l2_sp``: L2-SP towards the source weights;
- ``cdc``: cross-domain correspondence (`CDC`): distance consistency on G's loss, one anchor region per
  training image (image-level D there, patch-level D elsewhere);
- ``ewc``: elastic weight consolidation (`EWC`) on G's weights;
- ``scale_shift``: only G's normalisation scale/shift and its output layer train; ``adafm`` adds
  per-channel kernel modulation of the hidden transposed convolutions (on a style-based generator: the affine
  style layers, and AdAM's rank-1 kernel modulation);
- ``freeze_g``: the generator's first `freeze_g` declared blocks frozen (FreezeG; a style-based generator's
  first block holds its mapping network);
- ``latent_adaptor``: only an affine map of w trains in G (GenDA; a style-based generator), D as usual;
- on a diffusion source (base ``diffusion``: the `diffusion` task, every weight fine-tuned; ``scratch``: a fresh
  model of the source's architecture): ``lora`` (LoRA factors of rank `weights["lora"]` only), ``adapters``
  (DPMs-ANT's adaptors of width `weights["adapters"]` only), ``pairwise`` (DDPM-PA's loss of weight
  `weights["pairwise"]` against the frozen source).

e.g. ``scratch+diffaugment`` (the literature's strong baseline), ``trgan+freeze_d+diffaugment+cdc``.
"""

import time

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.metrics import evaluate_samples, intra_cluster_distance, reference_features
from keras_transfer_gan.metrics.precision_recall import squared_distances
from keras_transfer_gan.tasks import get_task, list_tasks
from keras_transfer_gan.training import KeepBest, Trainer, compile_for_training
from keras_transfer_gan.transfer import fold_modulation, merge_lora
from keras_transfer_gan.transfer.augmentation import ADA, make_augment

SCRATCH = "scratch"
MODIFIERS = ("freeze_d", "diffaugment", "ada", "l2_sp", "cdc", "ewc", "scale_shift", "adafm", "freeze_g",
             "latent_adaptor", "lora", "adapters", "pairwise")
TRANSFER_ONLY = ("freeze_d", "l2_sp", "cdc", "ewc", "scale_shift", "adafm", "freeze_g", "latent_adaptor", "lora",
                 "adapters", "pairwise")
#: The modifiers of a diffusion arm (base ``diffusion``); the others are a GAN arm's.
DIFFUSION_MODIFIERS = ("lora", "adapters", "pairwise")
LABELS = {"scratch": "scratch", "freeze_d": "Freeze-D", "diffaugment": "DiffAugment",
          "ada": "ADA", "l2_sp": "L2-SP", "cdc": "CDC", "ewc": "EWC", "scale_shift": "scale/shift",
          "adafm": "AdaFM", "freeze_g": "FreezeG", "latent_adaptor": "GenDA latent adaptor", "lora": "LoRA",
          "adapters": "adaptors", "pairwise": "pairwise similarity"}
#: Names of the first study, kept as aliases.
ALIASES = {"trgan_freezed": "trgan+freeze_d", "trgan_freezed_diffaugment": "trgan+freeze_d+diffaugment"}
#: Default strengths of the regularisers (weights of CDC and EWC, alpha/beta of L2-SP). An arm's `weights` may
#: also set ``learning_rate`` (both optimizers; None: the model's default), ``freeze_d`` (the blocks Freeze-D
#: freezes), ``freeze_g`` (the blocks FreezeG freezes) and ``ada_target`` (ADA's target for D's overfitting
#: heuristic): what `study.tuning` sweeps.
DEFAULT_WEIGHTS = {"cdc": 1000.0, "ewc": 1.0, "l2_sp": (0.01, 0.0), "freeze_g": 2,  # CDC: the authors' --kl_wt
                   "lora": 4, "adapters": 16, "pairwise": 1.0}
HYPERPARAMETERS = ("cdc", "ewc", "l2_sp", "learning_rate", "freeze_d", "freeze_g", "ada_target", "lora", "adapters",
                   "pairwise")
#: The arms a study of a diffusion source runs by default.
DIFFUSION_METHODS = ("scratch", "diffusion", "diffusion+lora", "diffusion+lora+pairwise", "diffusion+adapters")
#: The methods the study and the demo compare by default (a GAN source).
METHODS = ("scratch", "scratch+diffaugment", "trgan+freeze_d+diffaugment", "trgan+freeze_d+diffaugment+cdc",
           "trgan+freeze_d+diffaugment+ewc", "trgan+scale_shift+diffaugment")


def bases():
    """The arms' starting points: scratch, and every task that builds a GAN target (`Task.build_target`)."""
    return (SCRATCH, *(name for name in list_tasks() if hasattr(get_task(name), "build_target")))


def parse_method(method):
    """``"trgan+freeze_d+cdc"`` -> ``{"base": "trgan", "freeze_d": True, "cdc": True, ...}`` (every modifier a key)."""
    method = ALIASES.get(method, method)
    parts = [p.strip() for p in str(method).split("+")]
    if parts[0] not in bases():
        raise ValueError(f"unknown method {method!r}: start with {' or '.join(bases())} (e.g. trgan+freeze_d+cdc)")
    unknown = [p for p in parts[1:] if p not in MODIFIERS]
    if unknown:
        raise ValueError(f"unknown method {method!r}: no modifier {unknown[0]!r} (choose from {', '.join(MODIFIERS)})")
    settings = {"base": parts[0], **{m: m in parts[1:] for m in MODIFIERS}}
    if settings["base"] == SCRATCH and any(settings[m] for m in TRANSFER_ONLY):
        raise ValueError(f"method {method!r}: {', '.join(m for m in TRANSFER_ONLY if settings[m])} needs a source "
                         f"(start with {' or '.join(bases()[1:])})")
    if settings["diffaugment"] and settings["ada"]:
        raise ValueError(f"method {method!r}: choose diffaugment or ada, not both")
    if settings["adafm"]:
        settings["scale_shift"] = True
    gan_only = [m for m in MODIFIERS if m not in DIFFUSION_MODIFIERS and settings[m]]
    if settings["base"] == "diffusion" and gan_only:
        raise ValueError(f"method {method!r}: a diffusion arm takes {', '.join(DIFFUSION_MODIFIERS)} only, not "
                         f"{gan_only[0]}")
    if settings["base"] != "diffusion" and any(settings[m] for m in DIFFUSION_MODIFIERS):
        raise ValueError(f"method {method!r}: {', '.join(m for m in DIFFUSION_MODIFIERS if settings[m])} needs "
                         "the diffusion base (diffusion+lora, ...)")
    if settings["lora"] and settings["adapters"]:
        raise ValueError(f"method {method!r}: choose lora or adapters, not both")
    if settings["latent_adaptor"] and (settings["scale_shift"] or settings["freeze_g"]):
        raise ValueError(f"method {method!r}: latent_adaptor trains only w's adaptor in G: no scale_shift or freeze_g")
    return settings


def method_label(method):
    """A readable name: ``"trgan+freeze_d+cdc"`` -> ``"TrGAN + Freeze-D + CDC"``."""
    return " + ".join(LABELS.get(p) or get_task(p).label for p in ALIASES.get(method, method).split("+"))


def build_arm_model(method, source, channels, seed=0, freeze_d=2, weights=None, n_images=10):
    """The arm's model (compiled) and its transfer report (None from scratch); CDC gets one anchor per training
    image (`n_images`), as in the paper."""
    settings = parse_method(method)
    unknown = sorted(set(weights or {}) - set(HYPERPARAMETERS))
    if unknown:
        raise ValueError(f"study: unknown hyperparameter {unknown[0]!r} (choose from {', '.join(HYPERPARAMETERS)})")
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    augment = "diffaugment" if settings["diffaugment"] else "ada" if settings["ada"] else "none"
    if augment == "ada" and weights.get("ada_target") is not None:
        augment = ADA(target=float(weights["ada_target"]))
    learning_rate = weights.get("learning_rate")
    freeze_d = int(weights.get("freeze_d", freeze_d))
    keras.utils.set_random_seed(seed)
    if settings["base"] == SCRATCH:
        model = type(source).from_config({**source.get_config(), "channels": channels, "seed": seed})
        if not model.takes_augment and augment != "none":
            raise ValueError(f"method {method!r}: {type(model).__name__} takes no augmentation of a discriminator")
        compile_for_training(model, learning_rate=learning_rate,
                             **({"augment": make_augment(augment)} if model.takes_augment else {}))
        return model, None
    task = get_task(settings["base"])
    if settings["base"] == "diffusion":
        options = task.options(lora=int(weights["lora"]) if settings["lora"] else 0,
                               adapters=int(weights["adapters"]) if settings["adapters"] else 0,
                               pairwise=float(weights["pairwise"]) if settings["pairwise"] else None)
        model, report, _ = task.build_target(source, options, channels=channels, seed=seed,
                                             learning_rate=learning_rate)
        return model, report
    options = task.options(
        freeze_d=freeze_d if settings["freeze_d"] else 0, augment="ada" if isinstance(augment, ADA) else augment,
        l2_sp=weights["l2_sp"] if settings["l2_sp"] else None, cdc=weights["cdc"] if settings["cdc"] else None,
        cdc_anchors=int(n_images),
        ewc=weights["ewc"] if settings["ewc"] else None,
        freeze_g=int(weights["freeze_g"]) if settings["freeze_g"] else 0, latent_adaptor=settings["latent_adaptor"],
        scale_shift="adafm" if settings["adafm"] else "bn" if settings["scale_shift"] else "none")
    tuned_ada = augment if isinstance(augment, ADA) else None  # the options name ADA; this object holds its target
    model, report, _ = task.build_target(source, options, ewc_seed=seed, channels=channels, seed=seed,
                                         learning_rate=learning_rate, augment=tuned_ada)
    return model, report


def few_shot_dataset(images, batch_size, seed):
    """Endless shuffled batches of the in-memory target images (reshuffled each pass, seeded)."""
    n = len(images)
    batch = min(batch_size, n)
    return (tf.data.Dataset.from_tensor_slices(images).shuffle(n, seed=seed, reshuffle_each_iteration=True)
            .repeat().batch(batch, drop_remainder=True).prefetch(2))


def nearest_rmse(samples, pool, batch=256):
    """For each sample, the RMS pixel difference to its nearest image in `pool` (memorisation check)."""
    a = np.asarray(samples, np.float64).reshape(len(samples), -1)
    b = np.asarray(pool, np.float64).reshape(len(pool), -1)
    nearest = [squared_distances(a[i:i + batch], b).min(axis=1) for i in range(0, len(a), batch)]
    return np.sqrt(np.concatenate(nearest) / a.shape[1])


def copier_floor(images, reference_images, extractor, n_fake, reference_key=None, seed=0, second_extractor=None):
    """What a generator that copies its training images scores: the N images repeated to `n_fake` (with
    `second_extractor`, also its FID there as ``fid_2``)."""
    repeats = np.resize(np.arange(len(images)), n_fake)
    out = evaluate_samples(reference_images, images[repeats], extractor=extractor, metrics=("fid", "kid", "pr"),
                           kid_subsets=20, reference_key=reference_key, seed=seed,
                           kid_subset_size=max(2, n_fake // 2))
    if second_extractor is not None:
        out["fid_2"] = evaluate_samples(reference_images, images[repeats], second_extractor, ("fid",),
                                        reference_key=reference_key)["fid"]
    return out


def run_arm(method, source, images, steps, eval_every, reference_images, extractor, batch_size=32, seed=0,
            n_fake=500, freeze_d=2, reference_key=None, callbacks=(), verbose=0, held_out=None, weights=None,
            keep_best=True, second_extractor=None, small_held_out=None, measure=True, evaluate_start=True):
    """Train one arm for `steps` steps, evaluating every `eval_every` steps (and at step 0 unless
    `evaluate_start` is False: for a model whose evaluation costs more than its training, a diffusion model's
    hundreds of samples of tens of denoiser calls each, whose step-0 figure is its source's).

    Each evaluation measures FID, KID, precision and recall of `n_fake` samples
    against `reference_images` (the target's test split), and memorisation:
    ``nn_train`` is the mean RMS pixel distance from each sample to its nearest
    training image; with `held_out` (real target images neither trained on nor
    in the reference, e.g. from the train split), ``nn_real`` is the same
    distance for held-out real images, so ``nn_train / nn_real`` well below 1
    means the samples copy the training set. With `second_extractor` (a second,
    independently trained evaluator of the domain), ``fid_2`` is the FID on its
    features. With `held_out` and `keep_best`, a
    `KeepBest` measures KID against the held-out images at each evaluation and
    the model ends with the weights of the lowest one (best-checkpoint
    selection that never looks at the reference). With `small_held_out` (at
    most N held-out images: what a user with N images could set aside), the
    same KID against them is ``held_out_kid_small`` and its lowest point
    ``selected_step_small``.

    Returns:
        dict with ``method``, ``seed``, ``n_images``, ``batch_size`` (the one trained on), ``curve`` (list of
        ``{"step", "fid", "kid", "kid_std", "precision", "recall", "nn_train", "intra_cluster", "held_out_kid",
        "held_out_kid_small", "fid_2"}``), ``selected_step``, ``selected_step_small``, ``nn_real``,
        ``train_seconds``, ``sample_seconds_per_100``, ``model`` and ``report``.
    """
    if steps <= 0 or eval_every <= 0 or steps % eval_every:
        raise ValueError(f"steps ({steps}) must be a positive multiple of eval_every ({eval_every})")
    if not measure and (held_out is None or len(held_out) < 4 or not keep_best):
        raise ValueError("run_arm: measure=False reads only the held-out KIDs: it needs held_out (>= 4 images) "
                         "and keep_best")
    model, report = build_arm_model(method, source, images.shape[-1], seed=seed, freeze_d=freeze_d, weights=weights,
                                    n_images=len(images))
    reference_features(extractor, reference_images, reference_key)  # computed once, cached
    selector = None
    if held_out is not None and len(held_out) >= 4 and keep_best:
        selector = KeepBest(held_out, extractor, n_samples=min(n_fake, 256), restore_best=False, seed=seed,
                            evaluate_at_start=evaluate_start)
    small = None
    if small_held_out is not None and len(small_held_out) >= 4 and selector is not None:
        small = KeepBest(small_held_out, selector.extractor, n_samples=min(n_fake, 256), restore_best=False, seed=seed,
                         evaluate_at_start=evaluate_start, samples_from=selector)  # the same samples, generated once

    train_features = extractor.features(images)

    sample_seconds = []  # generating the n_fake samples of each evaluation (the sampling cost)

    def evaluate(step):
        held_out_kids = {"held_out_kid": selector.history[-1]["kid"] if selector is not None else None,
                         "held_out_kid_small": small.history[-1]["kid"] if small is not None else None}
        if not measure:
            return {"step": int(step), **held_out_kids}
        start = time.perf_counter()
        fake = np.asarray(model.generate(n_fake, seed=seed + 12345))
        sample_seconds.append(time.perf_counter() - start)
        fake_features = extractor.features(fake)  # for the metrics and the clusters alike
        result = evaluate_samples(reference_images, fake, extractor=extractor, metrics=("fid", "kid", "pr"),
                                  kid_subsets=20, reference_key=reference_key, seed=seed,
                                  kid_subset_size=max(2, n_fake // 2), fake_features=fake_features)
        return {"step": int(step), "fid": result["fid"], "kid": result["kid"], "kid_std": result["kid_std"],
                "precision": result["precision"], "recall": result["recall"],
                "nn_train": float(nearest_rmse(fake, images).mean()),
                "intra_cluster": intra_cluster_distance(fake_features, train_features), **held_out_kids,
                "fid_2": (evaluate_samples(reference_images, fake, second_extractor, ("fid",),
                                           reference_key=reference_key)["fid"] if second_extractor else None)}

    selectors = [s for s in (selector, small) if s is not None]
    trainer = Trainer(model, callbacks=list(callbacks) + selectors, verbose=verbose)
    for s in selectors:
        s.set_model(model)
        s.on_train_begin()
    curve = [evaluate(0)] if evaluate_start else []
    data = few_shot_dataset(images, batch_size, seed)
    seconds = 0.0
    for block in range(steps // eval_every):
        start = time.perf_counter()
        trainer.fit(data, epochs=1, steps_per_epoch=eval_every)
        seconds += time.perf_counter() - start
        curve.append(evaluate((block + 1) * eval_every))
    selected = selected_small = None
    if selector is not None:
        selector.restore()
        selected = int(curve[int(np.argmin([p["held_out_kid"] for p in curve]))]["step"])
    if small is not None:
        selected_small = int(curve[int(np.argmin([p["held_out_kid_small"] for p in curve]))]["step"])
    nn_real = float(nearest_rmse(held_out, images).mean()) if held_out is not None and len(held_out) else None
    return {"method": method, "seed": seed, "n_images": int(len(images)), "curve": curve, "nn_real": nn_real,
            "batch_size": int(min(batch_size, len(images))),  # the batch trained on (a set smaller than it: all)
            "selected_step": selected, "selected_step_small": selected_small, "train_seconds": round(seconds, 1),
            # the fastest evaluation's (the first one traces; stalls only lengthen the others)
            "sample_seconds_per_100": round(min(sample_seconds) * 100 / n_fake, 3) if sample_seconds else None,
            "model": merge_lora(fold_modulation(model)),
            "report": report}
