"""Generator-augmented classifiers: a small labelled set plus samples of a (transferred) conditional generator."""

import dataclasses

from keras_transfer_gan.tasks.options import TaskOptions, option
from keras_transfer_gan.tasks.registry import register_task
from keras_transfer_gan.tasks.task import Task


@dataclasses.dataclass
class AugmentOptions(TaskOptions):
    """The augmented classifier's options."""

    per_class: int = option(10, "Generated images per class.", minimum=1)


def augment_with_generator(images, labels, generator, per_class, seed=0):
    """The labelled set plus `per_class` generated images of each class (shuffled).

    `generator` is a conditional model with ``sample(n, conditions=labels, seed=...)`` (ACGAN, projection
    cGAN or CVAE), producing images shaped like `images`.
    """
    import numpy as np

    from keras_transfer_gan.utils.checks import check_positive_int

    images, labels = np.asarray(images, np.float32), np.asarray(labels, np.int32)
    check_positive_int(per_class, "per_class", "augment_with_generator", minimum=0)
    if getattr(generator, "conditions", None) != "labels":
        raise ValueError(f"augment_with_generator: {type(generator).__name__} is not a conditional generator")
    num_classes = generator.num_classes
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"augment_with_generator: label {labels.max()} is out of range for {num_classes} classes")
    fake_labels = np.repeat(np.arange(num_classes, dtype=np.int32), per_class)
    fake = np.asarray(generator.sample(len(fake_labels), conditions=fake_labels, seed=seed)) if per_class else \
        np.zeros((0, *images.shape[1:]), np.float32)
    if fake.shape[1:] != images.shape[1:]:
        raise ValueError(f"augment_with_generator: generated images are {fake.shape[1:]}, the set is {images.shape[1:]}")
    all_images = np.concatenate([images, fake.astype(np.float32)])
    all_labels = np.concatenate([labels, fake_labels])
    order = np.random.default_rng(seed).permutation(len(all_images))
    return all_images[order], all_labels[order]


def augmented_classifier(generator, images, labels, per_class, epochs=1, batch_size=32, validation_data=None,
                         classifier_args=None, seed=0, strategy=None, verbose=0):
    """Train a classifier on a small labelled set plus samples from a (transferred) conditional generator.

    Returns a `RecipeResult` whose ``extra`` holds the training-set sizes and,
    with `validation_data`, the accuracy reached.
    """
    import tensorflow as tf

    from keras_transfer_gan.registry import build_model
    from keras_transfer_gan.tasks.fitting import check_positive, fit, source_model
    from keras_transfer_gan.training import compile_for_training
    from keras_transfer_gan.transfer import RecipeResult

    check_positive("augmented_classifier", epochs=epochs, batch_size=batch_size)
    generator = source_model(generator)
    x, y = augment_with_generator(images, labels, generator, per_class, seed=seed)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = build_model("classifier", num_classes=generator.num_classes, image_size=x.shape[1],
                             channels=x.shape[-1], seed=seed, **(classifier_args or {}))
        compile_for_training(model, strategy)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size, drop_remainder=len(x) >= batch_size)
    result = RecipeResult(model, extra={"real": int(len(images)), "generated": int(len(x) - len(images))})
    result.history = fit(model, dataset, epochs, strategy, verbose=verbose)
    if validation_data is not None:
        result.extra["accuracy"] = float(model.evaluate(validation_data, verbose=0, return_dict=True)["accuracy"])
    return result


@register_task
class Augment(Task):
    name = "augment"
    description = "a classifier on the labelled target images plus a conditional generator's samples"
    options_class = AugmentOptions
    samples = None
    source_channels = True  # what the source reads (or writes)
    extra_label = "accuracy"

    def accepts(self, source):
        if getattr(source, "conditions", None) != "labels" or getattr(source, "generates", None) != "images":
            return f"needs a label-conditioned image generator (ACGAN, cGAN, CVAE), got {type(source).__name__}"
        return None

    def run(self, source, context, options):
        from keras_transfer_gan.data import load_dataset, load_images

        size, channels = self.image_settings(source, context)
        images, labels = load_images(context.dataset, image_size=size, channels=channels, limit=context.limit,
                                     seed=context.seed, labels=True, data_dir=context.data_dir)
        data = load_dataset(context.dataset, labels=True,
                            **context.data_settings(source, channels=channels, limit=None, drop_remainder=False))
        return augmented_classifier(source, images, labels, per_class=options.per_class, epochs=context.epochs,
                                    batch_size=context.batch_size, validation_data=data, seed=context.seed,
                                    verbose=context.verbose)
