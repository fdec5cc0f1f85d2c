"""`SingleOptimizerModel`: base of the zoo's models trained by one optimizer (VAE, text)."""

import keras


class SingleOptimizerModel(keras.Model):
    """A model with its own `train_step`, one optimizer and loss trackers in `self.trackers`.

    `compile` builds the optimizer at once (inside `strategy.scope()` when
    distributed), and the compile config round-trips through `.keras` files.
    """

    def compile(self, optimizer="adam", **kwargs):
        """Attach the optimizer and build it on every weight (so freezing before or after compile is alike)."""
        super().compile(optimizer=optimizer, **kwargs)
        averages = {id(w) for layer in self.layers if layer.name.endswith("_ema") for w in layer.weights}
        self.optimizer.build([w for w in self.weights if id(w) not in averages])

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        return {"optimizer": keras.optimizers.serialize(self.optimizer)}

    def compile_from_config(self, config):
        self.compile(optimizer=keras.optimizers.deserialize(config["optimizer"]))

    @property
    def metrics(self):
        return list(self.trackers.values())
