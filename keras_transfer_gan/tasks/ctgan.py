"""CTGAN: a source-trained classifier pseudo-labels the target images; a conditional GAN trains on them."""

import dataclasses

from keras_transfer_gan.tasks.options import option
from keras_transfer_gan.tasks.registry import register_task
from keras_transfer_gan.tasks.step_options import StepOptions
from keras_transfer_gan.tasks.task import Task


@dataclasses.dataclass
class CTGANOptions(StepOptions):
    """CTGAN's options (the conditional GAN's size comes from --model_args)."""

    min_confidence: float = option(0.0, "Drop images the classifier is less sure of.", minimum=0)


def pseudo_label(classifier, images, min_confidence=0.0):
    """``(labels, confidence, keep)``: the classifier's argmax classes and top probabilities for images of any
    size/channels (an `ImageClassifier` or an ACGAN: anything declaring `class_probabilities`)."""
    import numpy as np

    from keras_transfer_gan.tasks.fitting import source_model
    from keras_transfer_gan.utils.images import match_input

    classifier = source_model(classifier)
    if not getattr(classifier, "implements", lambda _: False)("class_probabilities"):
        raise ValueError(f"pseudo_label: needs an ImageClassifier or an ACGAN, got {type(classifier).__name__}")
    images = match_input(images, classifier.image_size, classifier.channels).numpy()
    probabilities = np.asarray(classifier.class_probabilities(images))
    labels = probabilities.argmax(-1).astype(np.int32)
    confidence = probabilities.max(-1)
    return labels, confidence, confidence >= min_confidence


def ctgan(classifier, images, epochs=1, batch_size=32, min_confidence=0.0, generator_source=None,
          model="acgan", model_args=None, learning_rate=None, seed=0, strategy=None, checkpoint_dir=None,
          callbacks=(), verbose=0, report_to=None, steps_per_epoch=None, checkpoint_every=None, resume=False):
    """CTGAN: a source-trained classifier pseudo-labels the target images; a conditional GAN trains on them.

    Args:
        classifier: the source classifier (an `ImageClassifier` or an ACGAN; zoo name, file or model).
        images: target images, float32 ``(n, size, size, channels)`` in [-1, 1].
        min_confidence: drop images whose top probability is below this.
        generator_source: None (a fresh conditional GAN) or a conditional GAN
            to start from (TrGAN-style, heads rebuilt to the target).
        model: registry name of the fresh conditional GAN. Defaults to ``"acgan"``.
        model_args: dict of its constructor arguments.
    """
    import numpy as np
    import tensorflow as tf

    from keras_transfer_gan.registry import build_model
    from keras_transfer_gan.tasks.fitting import announce, check_positive, fit, source_model
    from keras_transfer_gan.training import compile_for_training
    from keras_transfer_gan.transfer import RecipeResult, derive_model

    check_positive("ctgan", epochs=epochs, batch_size=batch_size)
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"ctgan: images must be shaped (n, size, size, 1 or 3), got {images.shape}")
    classifier = source_model(classifier)
    labels, confidence, keep = pseudo_label(classifier, images, min_confidence)
    if keep.sum() < batch_size:
        raise ValueError(f"ctgan: only {int(keep.sum())} images reach confidence {min_confidence}, "
                         f"fewer than a batch of {batch_size}")
    images, labels = images[keep], labels[keep]
    num_classes = classifier.num_classes
    strategy = strategy or tf.distribute.get_strategy()
    target_args = dict(image_size=images.shape[1], channels=images.shape[-1], num_classes=num_classes)
    with strategy.scope():
        if generator_source is not None:
            source = source_model(generator_source)
            if getattr(source, "family", None) != "gan" or source.conditions != "labels":
                raise ValueError(f"ctgan: generator_source must be a conditional GAN, got {type(source).__name__}")
            gan, report = derive_model(source, **target_args)
        else:
            gan, report = build_model(model, seed=seed, **{**target_args, **(model_args or {})}), None
        compile_for_training(gan, strategy, learning_rate=learning_rate)
    order = np.random.default_rng(seed).permutation(len(images))
    dataset = tf.data.Dataset.from_tensor_slices((images[order], labels[order])).batch(batch_size, drop_remainder=True)
    result = RecipeResult(gan, report, None, extra={
        "pseudo_label_counts": np.bincount(labels, minlength=num_classes).tolist(),
        "kept": int(keep.sum()), "mean_confidence": float(confidence[keep].mean()),
    })
    announce(report_to, result)
    if steps_per_epoch is not None:
        dataset = dataset.repeat()
    result.history = fit(gan, dataset, epochs, strategy, checkpoint_dir, callbacks, verbose, steps_per_epoch,
                         checkpoint_every, resume)
    return result


@register_task
class CTGAN(Task):
    name = "ctgan"
    description = "a source classifier pseudo-labels the target images; a conditional GAN trains on them"
    options_class = CTGANOptions

    def accepts(self, source):
        if not getattr(source, "implements", lambda _: False)("class_probabilities"):
            return f"needs a source that gives class probabilities (a classifier or an ACGAN), got " \
                   f"{type(source).__name__}"
        return None

    def run(self, source, context, options):
        from keras_transfer_gan.data import load_images

        images, _ = load_images(context.dataset, image_size=context.image_size_for(source), channels=context.channels,
                                limit=context.limit, seed=context.seed, data_dir=context.data_dir)
        return ctgan(source, images, epochs=context.epochs_for(options),
                     batch_size=context.batch_size_for(options), min_confidence=options.min_confidence,
                     model_args=context.model_args, learning_rate=context.lr, seed=context.seed,
                     callbacks=context.callbacks(), verbose=context.verbose, report_to=context.report_to,
                     **context.trainer_settings(options))
