"""`SingleOptimizerModel`: base of the zoo's models trained by one optimizer (VAE, text, classifier)."""

import keras
import tensorflow as tf

from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.models.ema import is_ema_copy, update_ema
from keras_transfer_gan.models.inputs import unpack_batch


class SingleOptimizerModel(Architecture, keras.Model):
    """A model with one optimizer, loss trackers in `self.trackers` and one training step for all.

    `compile` builds the optimizer at once (inside `strategy.scope()` when
    distributed), and the compile config round-trips through `.keras` files.

    `train_step` is the skeleton every single-optimizer model shares: the
    subclass's `per_example_losses` (under the tape) gives per-example total
    losses and the values to track; the mean over the *global* batch
    (`tf.nn.compute_average_loss`) is scaled for mixed precision and applied
    to the trainable weights (a fully frozen model takes no step); the EMA
    copy named by `ema_pair` follows; the trackers are updated from the
    returned values.
    """

    #: L2-SP pulls weights, whatever the layers: any single-optimizer model takes it.
    few_shot_methods = ("l2_sp",)

    def compile(self, optimizer="adam", regularizers=(), **kwargs):
        """Attach the optimizer and build it on every weight (so freezing before or after compile is alike).

        `regularizers`: callables ``(submodel) -> scalar`` (e.g. `L2SP`) added to the loss for each
        sub-model (the EMA copy aside); training settings, not saved with the model.
        """
        super().compile(optimizer=optimizer, **kwargs)
        self.regularizers = list(regularizers)
        averages = {id(w) for layer in self.layers if is_ema_copy(layer) for w in layer.weights}
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

    def get_config(self):
        return {**super().get_config(), **self.config_values()}

    # ------------------------------------------------------------- training
    def per_example_losses(self, inputs, labels):
        """``(per_example_total, {tracker_name: per-example or scalar value})`` for one batch (training mode)."""
        raise NotImplementedError

    def ema_pair(self):
        """``(average, network)``: the EMA copy (or None) and the network it follows; ``(None, None)`` when
        the model has no network that samples."""
        return None, None

    def ema_decay_now(self):
        """The EMA's decay at this step (a model whose EMA warms up overrides it)."""
        return self.ema_decay

    @property
    def sampler(self):
        """The network used for sampling and export: the EMA copy when on."""
        average, network = self.ema_pair()
        return average if average is not None else network

    def extra_logs(self, logs):
        """Values derived from the tracked ones, added to the step's logs (e.g. perplexity)."""
        return {}

    def regularization(self):
        """The regularizers' sum over the sub-models, divided among replicas (their gradients are summed)."""
        regularizers = getattr(self, "regularizers", ())
        parts = [layer for layer in self.layers if isinstance(layer, keras.Model) and not is_ema_copy(layer)]
        if not regularizers or not parts:
            return 0.0
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        return tf.add_n([tf.cast(r(part), tf.float32) for r in regularizers for part in parts]) / replicas

    def train_step(self, data):
        inputs, labels = unpack_batch(data)
        with tf.GradientTape() as tape:
            per_example, tracked = self.per_example_losses(inputs, labels)
            loss = tf.nn.compute_average_loss(per_example) + self.regularization()
            scaled = self.optimizer.scale_loss(loss)  # loss scaling under mixed_float16, else the identity
        weights = self.trainable_variables
        if weights:  # a fully frozen model takes no step
            self.optimizer.apply_gradients(zip(tape.gradient(scaled, weights), weights))
        average, network = self.ema_pair()
        if average is not None:
            update_ema(average, network, self.ema_decay_now())
        for name, value in tracked.items():
            self.trackers[name].update_state(tf.reduce_mean(value))
        logs = {m.name: m.result() for m in self.metrics}
        logs.update(self.extra_logs(logs))
        return logs
