"""Exponential moving averages of a sub-model's weights (for sampling and export)."""

import keras


def ema_name(name):
    """The name of the EMA copy of the sub-model called `name`."""
    return f"{name}_ema"


def is_ema_copy(layer):
    """Whether `layer` is an EMA copy made by `make_ema_copy` (transfer and loading skip or mirror these)."""
    return layer.name.endswith(ema_name(""))


def make_ema_copy(model):
    """A frozen clone of `model` holding its current weights, named ``ema_name(model.name)``."""
    ema = keras.models.clone_model(model)
    ema.name = ema_name(model.name)
    ema.set_weights(model.get_weights())
    ema.trainable = False
    return ema


def update_ema(ema, model, decay):
    """``ema <- decay * ema + (1 - decay) * model`` for trainable weights; other
    weights (batch-norm statistics, spectral-norm vectors) are copied."""
    trainable = {id(w) for w in model.trainable_variables}
    for average, weight in zip(ema.weights, model.weights):
        if id(weight) in trainable:
            average.assign(decay * average + (1.0 - decay) * weight)
        else:
            average.assign(weight)
