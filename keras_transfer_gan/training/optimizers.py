"""Optimizers for training: trainers build them, models only declare defaults."""

import keras


def build_optimizer(name="adam", learning_rate=2e-4, beta_1=0.5, beta_2=0.999, weight_decay=None):
    """One optimizer: ``adam``, ``adamw``, ``rmsprop`` or ``sgd``."""
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay or 1e-4, beta_1=beta_1, beta_2=beta_2)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate)
    raise ValueError(f"unknown optimizer {name!r} (choose from adam, adamw, rmsprop, sgd)")


def compile_for_training(model, strategy=None, optimizer="adam", **overrides):
    """Build the optimizers a model needs from its `optimizer_defaults` and compile it.

    Runs inside `strategy.scope()` (the model's own strategy when None), where
    the optimizers' variables must live for distributed training.

    Args:
        model: a zoo model (an `Architecture`: its `optimizer_slots` say which optimizers it takes).
        strategy: a `tf.distribute.Strategy` or None.
        optimizer: str. Optimizer name for every sub-model. Defaults to ``"adam"``.
        **overrides: `learning_rate`, `beta_1`, ... over the model's defaults;
            other keys (e.g. `loss`) go to `model.compile`.
    """
    strategy = strategy or model.distribute_strategy
    opt_keys = ("learning_rate", "beta_1", "beta_2", "weight_decay")
    opt_config = dict(getattr(model, "optimizer_defaults", {}))
    opt_config.update({k: v for k, v in overrides.items() if k in opt_keys and v is not None})
    compile_kwargs = {k: v for k, v in overrides.items() if k not in opt_keys}
    with strategy.scope():  # one optimizer per slot the architecture declares (a GAN: d_optimizer, g_optimizer)
        optimizers = {slot: build_optimizer(optimizer, **opt_config) for slot in model.optimizer_slots}
        model.compile(**optimizers, **compile_kwargs)
    return model


def model_optimizers(model):
    """The optimizers attached to a compiled model, by attribute name."""
    return {
        name: value
        for name, value in vars(model).items()
        if isinstance(value, keras.optimizers.Optimizer) and not name.startswith("_")
    } or ({"optimizer": model.optimizer} if getattr(model, "optimizer", None) is not None else {})


