"""Transfer versus scratch under one step budget: the arms of `tools/transfer_study.py` and `tools/demo.py`.

An arm trains a DCGAN-family generator on few-shot target images with one
method and evaluates FID and KID against a reference set at fixed intervals:

- ``scratch``: the source's architecture, freshly initialised (the source's config, target channels);
- ``trgan``: initialised from the source (heads rebuilt for the target's channels), G and D fine-tuned;
- ``trgan_freezed``: TrGAN with the discriminator's first `freeze_d` blocks frozen (Freeze-D), except
  the layers adapted to the new channel count;
- ``trgan_freezed_diffaugment``: the same plus DiffAugment (colour, translation, cutout) on D's input.
"""

import time

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.metrics import evaluate_samples, reference_features
from keras_transfer_gan.metrics.precision_recall import _squared_distances
from keras_transfer_gan.training import Trainer, compile_for_training
from keras_transfer_gan.transfer.freezing import freeze_discriminator_blocks
from keras_transfer_gan.transfer.heads import rebuilt_target
from keras_transfer_gan.transfer.recipes import make_augment

METHODS = {
    "scratch": dict(pretrained=False, freeze=False, augment=None),
    "trgan": dict(pretrained=True, freeze=False, augment=None),
    "trgan_freezed": dict(pretrained=True, freeze=True, augment=None),
    "trgan_freezed_diffaugment": dict(pretrained=True, freeze=True, augment="diffaugment"),
}


def build_arm_model(method, source, channels, seed=0, freeze_d=2):
    """The arm's model (compiled) and its transfer report (None from scratch)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")
    settings = METHODS[method]
    keras.utils.set_random_seed(seed)
    if settings["pretrained"]:
        model, report = rebuilt_target(source, channels=channels, seed=seed)
    else:
        model = type(source).from_config({**source.get_config(), "channels": channels, "seed": seed})
        report = None
    if settings["freeze"]:  # layers adapted to the new channels stay trainable (see freeze_discriminator_blocks)
        freeze_discriminator_blocks(model, freeze_d, keep_trainable=report if report is not None else ())
    compile_for_training(model, augment=make_augment(settings["augment"]))
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
    nearest = [_squared_distances(a[i:i + batch], b).min(axis=1) for i in range(0, len(a), batch)]
    return np.sqrt(np.concatenate(nearest) / a.shape[1])


def run_arm(method, source, images, steps, eval_every, reference_images, extractor, batch_size=32, seed=0,
            n_fake=500, freeze_d=2, reference_key=None, callbacks=(), verbose=0, held_out=None):
    """Train one arm for `steps` steps, evaluating every `eval_every` steps (and at step 0).

    Each evaluation also measures precision and recall, and memorisation:
    ``nn_train`` is the mean RMS pixel distance from each sample to its nearest
    training image; with `held_out` (real target images not trained on),
    ``nn_real`` is the same distance for held-out real images, so
    ``nn_train / nn_real`` well below 1 means the samples copy the training set.

    Returns:
        dict with ``method``, ``seed``, ``n_images``, ``curve`` (list of
        ``{"step", "fid", "kid", "kid_std", "precision", "recall", "nn_train"}``),
        ``nn_real``, ``train_seconds``, ``model`` and ``report``.
    """
    if steps <= 0 or eval_every <= 0 or steps % eval_every:
        raise ValueError(f"steps ({steps}) must be a positive multiple of eval_every ({eval_every})")
    model, report = build_arm_model(method, source, images.shape[-1], seed=seed, freeze_d=freeze_d)
    reference_features(extractor, reference_images, reference_key)  # computed once, cached

    def evaluate(step):
        fake = np.asarray(model.generate(n_fake, seed=seed + 12345))
        result = evaluate_samples(reference_images, fake, extractor=extractor, metrics=("fid", "kid", "pr"),
                                  kid_subsets=20, reference_key=reference_key, seed=seed)
        return {"step": int(step), "fid": result["fid"], "kid": result["kid"], "kid_std": result["kid_std"],
                "precision": result["precision"], "recall": result["recall"],
                "nn_train": float(nearest_rmse(fake, images).mean())}

    curve = [evaluate(0)]
    trainer = Trainer(model, callbacks=callbacks, verbose=verbose)
    data = few_shot_dataset(images, batch_size, seed)
    seconds = 0.0
    for block in range(steps // eval_every):
        start = time.perf_counter()
        trainer.fit(data, epochs=1, steps_per_epoch=eval_every)
        seconds += time.perf_counter() - start
        curve.append(evaluate((block + 1) * eval_every))
    nn_real = float(nearest_rmse(held_out, images).mean()) if held_out is not None and len(held_out) else None
    return {"method": method, "seed": seed, "n_images": int(len(images)), "curve": curve, "nn_real": nn_real,
            "train_seconds": round(seconds, 1), "model": model, "report": report}
