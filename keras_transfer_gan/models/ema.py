"""Exponential moving averages of a sub-model's weights (for sampling and export)."""

import keras


def make_ema_copy(model):
    """A frozen clone of `model` holding its current weights, named ``{name}_ema``."""
    ema = keras.models.clone_model(model)
    ema.name = f"{model.name}_ema"
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
