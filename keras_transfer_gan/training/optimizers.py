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
    compile_kwargs = {k: v for k, v in overrides.items() if k not in OPTIMIZER_KEYS}
    with strategy.scope():  # one optimizer per slot the architecture declares (a GAN: d_optimizer, g_optimizer)
        optimizers = {slot: build_optimizer(optimizer, **slot_config(model, slot, overrides))
                      for slot in model.optimizer_slots}
        model.compile(**optimizers, **compile_kwargs)
    return model


OPTIMIZER_KEYS = ("learning_rate", "beta_1", "beta_2", "weight_decay")


def slot_config(model, slot, overrides=None):
    """The optimizer settings of one slot: the model's `optimizer_defaults`, the overrides given, then the
    slot's own entry in the defaults (``{"mapping_optimizer": {"lr_multiplier": 0.01}}``: a mapping network's
    learning rate is 0.01x the one in force; other keys replace the shared value)."""
    defaults = dict(getattr(model, "optimizer_defaults", {}))
    own = dict(defaults.get(slot) or {})
    config = {k: v for k, v in defaults.items() if k in OPTIMIZER_KEYS}
    config.update({k: v for k, v in (overrides or {}).items() if k in OPTIMIZER_KEYS and v is not None})
    multiplier = own.pop("lr_multiplier", 1.0)
    config.update(own)
    if "learning_rate" in config:
        config["learning_rate"] = config["learning_rate"] * multiplier
    return config


def model_optimizers(model):
    """The optimizers attached to a compiled model, by attribute name."""
    return {
        name: value
        for name, value in vars(model).items()
        if isinstance(value, keras.optimizers.Optimizer) and not name.startswith("_")
    } or ({"optimizer": model.optimizer} if getattr(model, "optimizer", None) is not None else {})


