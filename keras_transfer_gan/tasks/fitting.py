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


def check_positive(who, **values):
    """Each value a positive int or None."""
    for name, value in values.items():
        check_positive_int(value, name, who, allow_none=True)
