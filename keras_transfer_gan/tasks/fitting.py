"""What the tasks share: loading a source given by name, announcing the report, training with a `Trainer`."""

import keras

from keras_transfer_gan.training import Trainer
from keras_transfer_gan.transfer.loading import load_pretrained
from keras_transfer_gan.utils.checks import check_positive_int


def source_model(source):
    """A Keras model as given, or loaded from a zoo name or a file."""
    return source if isinstance(source, keras.Model) else load_pretrained(source)


def announce(report_to, result):
    """Send the transfer report and freeze summary to `report_to` (None: nowhere)."""
    if report_to is not None:
        report_to(result.describe())


def fit(model, dataset, epochs, strategy=None, checkpoint_dir=None, callbacks=(), verbose=0, steps_per_epoch=None,
        checkpoint_every=None, resume=False):
    """Train with a `Trainer`; returns its history."""
    trainer = Trainer(model, strategy, checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every,
                      callbacks=callbacks, verbose=verbose)
    return trainer.fit(dataset, epochs=epochs, steps_per_epoch=steps_per_epoch, resume=resume)


def train_target(model, report, changed, dataset, epochs, strategy, checkpoint_dir=None, callbacks=(), verbose=0,
                 steps_per_epoch=None, checkpoint_every=None, resume=False, keep_best=None, report_to=None):
    """A built target trained as the image recipes do: its `RecipeResult` (report, freeze summary of the
    `changed` layers) announced, the run (`fit`, with `keep_best` among the callbacks), the selection's record
    in ``extra``."""
    from keras_transfer_gan.transfer import FreezeSummary, RecipeResult

    result = RecipeResult(model, report, FreezeSummary.of(model, changed) if changed else None)
    announce(report_to, result)
    callbacks = list(callbacks) + ([keep_best] if keep_best is not None else [])
    result.history = fit(model, dataset, epochs, strategy, checkpoint_dir, callbacks, verbose, steps_per_epoch,
                         checkpoint_every, resume)
    if keep_best is not None:
        result.extra.update(best_step=keep_best.best_step, best_kid=keep_best.best_kid,
                            held_out_kid=keep_best.history, stopped_early=keep_best.stopped_early)
    return result


def target_images(source, context, options):
    """The target's batches for an image model that trains in steps, its constructor overrides (the data's
    channels, an image size given) and a `KeepBest` when ``options.keep_best``: ``(data, overrides, selector)``."""
    from keras_transfer_gan.data import load_dataset
    from keras_transfer_gan.tasks.trgan import keep_best_selector

    labelled = source.consumes == "labelled_images"
    size = context.image_size_for(source)
    data = load_dataset(context.dataset, labels=labelled, repeat=options.steps is not None,
                        **context.data_settings(source, batch_size=context.batch_size_for(options)))
    spec = data.element_spec[0] if labelled else data.element_spec
    overrides = dict(channels=int(spec.shape[-1]), **({"image_size": size} if context.image_size else {}))
    selector = keep_best_selector(context, options, size, overrides["channels"]) if options.keep_best else None
    return data, overrides, selector


def check_positive(who, **values):
    """Each value a positive int or None."""
    for name, value in values.items():
        check_positive_int(value, name, who, allow_none=True)
