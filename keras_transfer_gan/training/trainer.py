"""`Trainer`: a custom training loop that runs a model's own `train_step` per replica."""

import math

import keras
import tensorflow as tf

from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.training.optimizers import model_optimizers
from keras_transfer_gan.utils.checks import check_positive_int


class NonFiniteLossError(ValueError):
    """A step produced a NaN or Inf loss (raised with `on_nonfinite="stop"`)."""


NONFINITE_MODES = ("stop", "skip", "rollback")


def _finite_steps(dataset):
    cardinality = int(dataset.cardinality())
    if cardinality in (tf.data.INFINITE_CARDINALITY, tf.data.UNKNOWN_CARDINALITY):
        return None
    return cardinality


class Trainer:
    """Train a compiled model with `strategy.run(model.train_step)` inside `tf.function`.

    The per-replica step is the model's own `train_step`, the one `fit` runs,
    so both paths train identically. Losses inside the step are averaged over
    the global batch (`tf.nn.compute_average_loss`) and the optimizers sum the
    replicas' gradients, so one step on N replicas equals one step on one
    replica with the same global batch. Metrics come back as the mean over
    replicas.

    Checkpoints (`tf.train.CheckpointManager`) hold the model, every optimizer,
    the step counter and the training settings' state the model declares
    (`training_state`: ADA's probability). The models draw their training noise from stateless
    RNG keyed by the optimizer's step, so the checkpoint is the RNG state too:
    `fit(..., resume=True)` restores the latest one, skips the batches already
    seen and continues exactly where the run stopped.

    Args:
        model: a compiled model (create and compile it in `strategy.scope()`).
        strategy: a `tf.distribute.Strategy`, or None for the model's own.
        checkpoint_dir: str or None. Where checkpoints go; None disables them.
        checkpoint_every: int or None. Also save every N steps (besides each
            epoch's end). Defaults to None.
        max_to_keep: int. Checkpoints kept. Defaults to 3.
        callbacks: Keras callbacks; their epoch and train hooks are called.
        use_tf_function: bool. False runs the step eagerly, for debugging.
        verbose: int. 1 shows a progress bar, 0 is silent. Defaults to 1.
        on_nonfinite: what a NaN or Inf in the step's logs does: ``"stop"``
            raises `NonFiniteLossError` naming the step and the last good
            checkpoint (nothing bad is saved); ``"skip"`` restores the weights
            and optimizer state from before the step and goes on with the next
            batch; ``"rollback"`` restores the last checkpoint (weights,
            optimizers, step) and goes on with the next batch. Defaults to ``"stop"``.
        max_nonfinite: int. Consecutive bad steps tolerated by skip/rollback before stopping. Defaults to 10.
        jit_compile: bool or None. Compile the per-replica step with XLA. None
            follows the model's `jit_compile` (what `fit` would use: Keras
            turns it off on CPU-only machines and under a distribution strategy).

    Example:
    >>> strategy = get_strategy("mirrored")
    >>> with strategy.scope():
    ...     model = create_model("dcgan", image_size=32)
    ...     compile_for_training(model)
    >>> Trainer(model, strategy, checkpoint_dir="runs/ckpt").fit(ds, epochs=5)
    """

    def __init__(
        self,
        model,
        strategy=None,
        checkpoint_dir=None,
        checkpoint_every=None,
        max_to_keep=3,
        callbacks=(),
        use_tf_function=True,
        verbose=1,
        on_nonfinite="stop",
        max_nonfinite=10,
        jit_compile=None,
    ):
        if on_nonfinite not in NONFINITE_MODES:
            raise ValueError(f"Trainer: on_nonfinite must be one of {', '.join(NONFINITE_MODES)}, got {on_nonfinite!r}")
        self.on_nonfinite = on_nonfinite
        self.max_nonfinite = max_nonfinite
        self.nonfinite_steps = []
        self._backup = None
        if not getattr(model, "compiled", False):
            raise ValueError("Trainer: compile the model first (see compile_for_training)")
        self.model = model
        self.strategy = strategy or model.distribute_strategy
        if model.distribute_strategy is not self.strategy:
            raise ValueError("Trainer: the model was not created in this strategy's scope()")
        if checkpoint_every is not None and checkpoint_every <= 0:
            raise ValueError(f"Trainer: checkpoint_every must be positive, got {checkpoint_every}")
        self.callbacks = list(callbacks)
        self.verbose = verbose
        self.checkpoint_every = checkpoint_every
        with self.strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="trainer_step")
        state = model.training_state() if isinstance(model, Architecture) else {}  # e.g. ADA's p
        self.checkpoint = tf.train.Checkpoint(model=model, step=self.step, **model_optimizers(model), **state)
        self.manager = None
        self._saved_step = None
        if checkpoint_dir:
            self.manager = tf.train.CheckpointManager(
                self.checkpoint, checkpoint_dir, max_to_keep=max_to_keep, step_counter=self.step
            )
        self._use_tf_function = use_tf_function
        self.jit_compile = bool(getattr(model, "jit_compile", False) if jit_compile is None else jit_compile)
        self._step_fn, self._traced_for = None, None

    def _make_step_fn(self):
        strategy, model, step = self.strategy, self.model, self.step
        train_step = model.train_step
        if self.jit_compile and self._use_tf_function:  # XLA per replica, as `fit` compiles its step
            train_step = tf.function(train_step, jit_compile=True)

        def step_fn(iterator):
            # Taking the batch inside the function keeps input off the Python path.
            per_replica = strategy.run(train_step, args=(next(iterator),))
            step.assign_add(1)
            return {
                name: strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                for name, value in per_replica.items()
            }

        return tf.function(step_fn) if self._use_tf_function else step_fn

    def _state_variables(self):
        variables = list(self.model.variables)
        for optimizer in model_optimizers(self.model).values():
            variables += list(optimizer.variables)
        seen, unique = set(), []
        for v in variables:
            if id(v) not in seen:
                seen.add(id(v))
                unique.append(v)
        return unique

    def _make_backup(self):
        """In-graph copy / restore of weights and optimizer state, for ``on_nonfinite="skip"``."""
        state = self._state_variables()
        with self.strategy.scope():
            copies = [tf.Variable(v, trainable=False, name="nonfinite_backup") for v in state]

        @tf.function
        def save():
            for copy, v in zip(copies, state):
                copy.assign(v)

        @tf.function
        def load():
            for copy, v in zip(copies, state):
                v.assign(copy)

        return save, load

    def _handle_nonfinite(self, logs):
        """Apply `on_nonfinite` after a step whose logs hold NaN or Inf."""
        step = int(self.step.numpy())
        bad = ", ".join(f"{k}={float(v)}" for k, v in logs.items() if not math.isfinite(float(v)))
        self.nonfinite_steps.append(step)
        latest = self.manager.latest_checkpoint if self.manager is not None else None
        consecutive = len(self.nonfinite_steps) >= self.max_nonfinite and self.nonfinite_steps[-self.max_nonfinite:] == \
            list(range(step - self.max_nonfinite + 1, step + 1))
        if self.on_nonfinite == "stop" or consecutive:
            why = "" if self.on_nonfinite == "stop" else f" ({self.max_nonfinite} bad steps in a row)"
            raise NonFiniteLossError(f"non-finite loss at step {step}{why}: {bad}; last good checkpoint: "
                                     f"{latest or 'none'}")
        if self.on_nonfinite == "skip":
            self._backup[1]()
        else:  # rollback
            if latest is None:
                raise NonFiniteLossError(f"non-finite loss at step {step}: {bad}; no checkpoint to roll back to")
            self.checkpoint.restore(latest).assert_existing_objects_matched()
            self._saved_step = int(self.step.numpy())
        for metric in self.model.metrics:  # running means hold the NaN: restart them
            metric.reset_state()
        if self.verbose:
            print(f"\nnon-finite loss at step {step} ({bad}): {self.on_nonfinite}"
                  + (f" to {latest}" if self.on_nonfinite == "rollback" else ""))

    def restore(self):
        """Restore the latest checkpoint, if any; returns its path or None."""
        if self.manager is None or self.manager.latest_checkpoint is None:
            return None
        path = self.manager.latest_checkpoint
        self.checkpoint.restore(path).assert_existing_objects_matched()
        return path

    def save(self):
        """Write a checkpoint now (numbered by the step); returns its path."""
        if self.manager is None:
            return None
        self._saved_step = int(self.step.numpy())
        return self.manager.save(checkpoint_number=self._saved_step)

    def fit(self, dataset, epochs=1, steps_per_epoch=None, resume=False):
        """Train for `epochs` epochs of `steps_per_epoch` steps (default: one pass).

        Args:
            dataset: a `tf.data.Dataset` of global batches.
            epochs: int. Epochs to train; with `resume`, the total the run
                stops at, counting the epochs done before the checkpoint.
            steps_per_epoch: int or None. Needed when the dataset is infinite
                or of unknown length.
            resume: bool. Restore the latest checkpoint first.

        Returns:
            dict: metric name -> list of per-epoch values, plus ``"step"``.
        """
        check_positive_int(epochs, "epochs", "Trainer.fit")
        steps_per_epoch = steps_per_epoch or _finite_steps(dataset)
        if not steps_per_epoch or steps_per_epoch <= 0:
            raise ValueError("Trainer.fit: the dataset is empty, infinite or of unknown length; pass steps_per_epoch")
        base = 0
        if resume:
            restored = self.restore()
            self._saved_step = int(self.step.numpy())
            if restored and self.verbose:
                print(f"Resumed from {restored} at step {self._saved_step}")
        else:
            base = int(self.step.numpy())  # a plain call trains `epochs` more epochs
        start = int(self.step.numpy()) - base
        total = epochs * steps_per_epoch
        # A traced step keeps the trainable list it saw: trace again after a freeze.
        trainable = tuple(id(v) for v in self.model.trainable_variables)
        if self._step_fn is None or trainable != self._traced_for:
            self._step_fn, self._traced_for = self._make_step_fn(), trainable
        history = {"step": []}
        callbacks = self.callbacks
        self.model.stop_training = False  # a callback (e.g. `KeepBest`) may set it to end the run early
        for cb in callbacks:
            cb.set_model(self.model)
            cb.on_train_begin()
        if start >= total:
            for cb in callbacks:
                cb.on_train_end()
            return history
        # One iterator over the repeated data; a resumed run skips what was seen.
        stream = dataset.repeat().skip(start) if start else dataset.repeat()
        iterator = iter(self.strategy.experimental_distribute_dataset(stream))
        logs = {}
        for epoch in range(start // steps_per_epoch, epochs):
            for m in self.model.metrics:
                m.reset_state()
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            first = start - epoch * steps_per_epoch if epoch == start // steps_per_epoch else 0
            bar = keras.utils.Progbar(steps_per_epoch, verbose=self.verbose) if self.verbose else None
            if bar is not None:
                print(f"Epoch {epoch + 1}/{epochs}")
                bar.update(first)
            if self.on_nonfinite == "skip" and self._backup is None:
                self._backup = self._make_backup()
            for i in range(first, steps_per_epoch):
                if self._backup is not None:
                    self._backup[0]()
                logs = self._step_fn(iterator)
                if not all(math.isfinite(float(v)) for v in logs.values()):
                    self._handle_nonfinite(logs)
                if bar is not None:
                    bar.update(i + 1, [(k, float(v)) for k, v in logs.items()])
                if self.checkpoint_every and int(self.step.numpy()) % self.checkpoint_every == 0:
                    self.save()
            logs = {k: float(v) for k, v in logs.items()}
            for k, v in logs.items():
                history.setdefault(k, []).append(v)
            history["step"].append(int(self.step.numpy()))
            if self._saved_step != int(self.step.numpy()):
                self.save()
            for cb in callbacks:
                cb.on_epoch_end(epoch, dict(logs))
            if self.model.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end(dict(logs))
        return history

