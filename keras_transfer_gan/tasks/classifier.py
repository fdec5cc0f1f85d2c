"""Classifier fine-tuning: a pretrained backbone, a new head; the head trains frozen, then everything."""

import dataclasses

from keras_transfer_gan.tasks.options import TaskOptions, option
from keras_transfer_gan.tasks.registry import register_task
from keras_transfer_gan.tasks.task import Task, source_family


@dataclasses.dataclass
class ClassifierOptions(TaskOptions):
    """Classifier fine-tuning's options (--epochs are the head's epochs)."""

    finetune_epochs: int = option(1, "Epochs with everything unfrozen (0: the head only).", minimum=0)


def finetune_classifier(source, dataset, num_classes, head_epochs=1, finetune_epochs=1, learning_rate=1e-3,
                        finetune_learning_rate=1e-4, validation_data=None, strategy=None, verbose=0,
                        report_to=None, **overrides):
    """Classifier fine-tuning: pretrained backbone, new head; train the head frozen, then unfreeze all.

    Args:
        source: an `ImageClassifier` (its backbone transfers, the head is
            new) or a GAN (its discriminator body becomes the backbone).
        dataset: batched ``(images, labels)``.
        num_classes: int. Classes of the target task.
        head_epochs, finetune_epochs: epochs of each phase (finetune 0 skips phase 2).
        learning_rate, finetune_learning_rate: of each phase.
        validation_data: batched ``(images, labels)``; accuracies go to ``extra``.
        **overrides: other `ImageClassifier` arguments (``channels=3``, ``dropout``, ...).
    """
    import tensorflow as tf

    from keras_transfer_gan.registry import build_model
    from keras_transfer_gan.tasks.fitting import announce, check_positive, fit, source_model
    from keras_transfer_gan.training import compile_for_training
    from keras_transfer_gan.transfer import RecipeResult, carry_weights, set_trainable, transfer_weights
    from keras_transfer_gan.transfer.loading import feature_extractor

    check_positive("finetune_classifier", head_epochs=head_epochs, num_classes=num_classes)
    if finetune_epochs < 0:
        raise ValueError(f"finetune_epochs must be >= 0, got {finetune_epochs!r}")
    source = source_model(source)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        if source_family(source) == "classifier":
            config = {**source.get_config(), "num_classes": num_classes, **overrides}
            model = type(source).from_config(config)
            report = carry_weights(source, model, dont_load=model.layer_group("head"))
        elif source_family(source) == "gan":
            backbone = feature_extractor(source)
            backbone.trainable = True
            args = {"image_size": source.image_size, "channels": source.channels, **overrides}
            if (args["image_size"], args["channels"]) != (source.image_size, source.channels):
                raise ValueError(f"finetune_classifier: the source discriminator reads {source.image_size}x"
                                 f"{source.image_size}x{source.channels} images")
            model = build_model("classifier", num_classes=num_classes, backbone=backbone, **args)
            # The backbone holds the source's weights already: the report lists them copied, the rest new.
            report = transfer_weights({f"{model.backbone.name}/{w.path}": w.numpy() for w in backbone.weights}, model)
        else:
            raise ValueError(f"finetune_classifier: the source must be an ImageClassifier or a GAN, "
                             f"got {type(source).__name__}")
        summary = set_trainable(model, False, pattern=model.layer_group("backbone"))
        compile_for_training(model, strategy, learning_rate=learning_rate)
    result = RecipeResult(model, report, summary)
    announce(report_to, result)
    history = {f"head/{k}": v for k, v in fit(model, dataset, head_epochs, strategy, verbose=verbose).items()}
    if validation_data is not None:
        result.extra["head_accuracy"] = float(model.evaluate(validation_data, verbose=0, return_dict=True)["accuracy"])
    if finetune_epochs:
        with strategy.scope():
            result.freeze = set_trainable(model, True, pattern=model.layer_group("backbone"))
            model.optimizer.learning_rate.assign(finetune_learning_rate)
        phase = fit(model, dataset, finetune_epochs, strategy, verbose=verbose)
        history.update({f"finetune/{k}": v for k, v in phase.items()})
        if validation_data is not None:
            result.extra["finetune_accuracy"] = float(
                model.evaluate(validation_data, verbose=0, return_dict=True)["accuracy"])
    result.history = history
    return result


@register_task
class Classifier(Task):
    name = "classifier"
    description = "a new classifier head on the source's backbone (a classifier's, or a GAN discriminator's body)"
    options_class = ClassifierOptions
    samples = None
    source_channels = True  # what the source reads (or writes)
    extra_label = "accuracy"

    def accepts(self, source):
        if source_family(source) not in ("classifier", "gan"):
            return f"needs an ImageClassifier or a GAN source, got {type(source).__name__}"
        return None

    def run(self, source, context, options):
        import numpy as np

        from keras_transfer_gan.data import load_dataset

        size, channels = self.image_settings(source, context)
        data = load_dataset(context.dataset, labels=True, **context.data_settings(source, channels=channels))
        classes = int(max(int(np.max(b[1].numpy())) for b in data) + 1)
        return finetune_classifier(
            source, data, num_classes=max(classes, 2), head_epochs=context.epochs,
            finetune_epochs=options.finetune_epochs, learning_rate=context.lr or 1e-3, validation_data=data,
            verbose=context.verbose, report_to=context.report_to,
            channels=channels)
