"""`KeepBest`: select the best checkpoint of a fine-tuning run by KID against held-out real images."""

import json
import os

import keras
import numpy as np

from keras_transfer_gan.metrics.evaluation import generate_images, get_extractor
from keras_transfer_gan.metrics.kid import kid
from keras_transfer_gan.utils.atomic import atomic_path, write_text
from keras_transfer_gan.utils.checks import check_positive_int


class KeepBest(keras.callbacks.Callback):
    """Measure KID against held-out real images at each epoch's end; keep the best weights; optionally stop.

    Few-shot fine-tuning gets better, then worse, as the generator overfits its
    few images: run `Trainer` (or `fit`) in epochs of the evaluation interval
    (``epochs=steps // every, steps_per_epoch=every``) with this callback. At
    the end of training the weights of the evaluation with the lowest KID are
    restored (``restore_best=True``); with `patience`, training stops after that
    many evaluations without improvement. The held-out images must not be
    training images (and should not be the final test reference either: take
    them from the train split, outside the few-shot subset).

    Attributes after training: ``best_step``, ``best_kid``, ``history`` (a list of
    ``{"step", "kid"}``), ``stopped_early``.

    Args:
        held_out: real images in [-1, 1] (the generator's shape).
        extractor: a `FeatureExtractor`, a zoo classifier name, or a Keras model.
        n_samples: int. Samples drawn per evaluation (fixed noise). Defaults to 256.
        patience: int or None. Evaluations without improvement before stopping. Defaults to None (never stop).
        restore_best: bool. Defaults to True.
        seed: int. Noise of the samples and KID's subsets. Defaults to 0.
        evaluate_at_start: bool. Also measure the starting weights (step 0 of a fine-tuning run),
            which then may be the best. Defaults to True.
        state_dir: str or None. Where the selection is kept across a resumed run (`Trainer` with a
            `checkpoint_dir` and ``fit(..., resume=True)``): after each evaluation the history and the best
            weights are written there (atomically); at the start of training they are read back, evaluations
            after the model's current step are dropped (they will be made again), and an epoch end whose
            evaluation was lost (the run killed between the checkpoint and the evaluation) is measured now.
            Defaults to None (nothing kept).
        samples_from: another `KeepBest` on the same model, extractor, `n_samples` and seed, earlier in the
            callbacks: measure its samples against these held-out images (one generation for both). Defaults to
            None.
    """

    def __init__(self, held_out, extractor, n_samples=256, patience=None, restore_best=True, seed=0,
                 evaluate_at_start=True, state_dir=None, samples_from=None):
        super().__init__()
        held_out = np.asarray(held_out, np.float32)
        if held_out.ndim != 4 or len(held_out) < 4:
            raise ValueError(f"KeepBest: held_out must be at least 4 images (n, h, w, c), got {held_out.shape}")
        check_positive_int(patience, "patience", "KeepBest", allow_none=True)
        self.extractor = get_extractor(extractor)
        self.held_out_features = self.extractor.features(held_out)
        self.n_samples = int(n_samples)
        self.patience = patience
        self.restore_best = restore_best
        self.seed = int(seed)
        self.evaluate_at_start = evaluate_at_start
        self.state_dir = state_dir
        if samples_from is not None and (samples_from.extractor is not self.extractor
                                         or (samples_from.n_samples, samples_from.seed) != (self.n_samples, self.seed)):
            raise ValueError("KeepBest: samples_from must use the same extractor, n_samples and seed")
        self.samples_from, self.last_sample_features = samples_from, None
        self.history, self.best_kid, self.best_step, self.best_weights = [], None, None, None
        self.stopped_early = False

    def _step(self):
        optimizer = getattr(self.model, "g_optimizer", None) or getattr(self.model, "optimizer", None)
        return int(optimizer.iterations.numpy()) if optimizer is not None else len(self.history)

    def measure(self):
        """KID of `n_samples` samples (fixed noise) against the held-out features; with `samples_from`, of the
        samples that selector drew at this evaluation (it must come first in the callbacks)."""
        if self.samples_from is not None:
            features = self.samples_from.last_sample_features
        else:
            features = self.extractor.features(generate_images(self.model, self.n_samples, seed=self.seed + 777))
        self.last_sample_features = features
        size = max(2, min(len(self.held_out_features), self.n_samples) // 2)
        value, _ = kid(self.held_out_features, features, num_subsets=20, subset_size=size, seed=self.seed)
        return value

    def _record(self):
        value, step = self.measure(), self._step()
        self.history.append({"step": step, "kid": value})
        if self.best_kid is None or value < self.best_kid:
            self.best_kid, self.best_step = value, step
            self.best_weights = [w.numpy().copy() for w in self.model.weights]
        elif self.patience is not None:
            since = sum(1 for h in self.history if h["step"] > self.best_step)
            if since >= self.patience:
                self.model.stop_training = True
                self.stopped_early = True
        self._save_state()

    # ------------------------------------------------------------------ resumable state
    def _state_paths(self):
        return os.path.join(self.state_dir, "keep_best.json"), os.path.join(self.state_dir, "keep_best.npz")

    def _save_state(self):
        if self.state_dir is None:
            return
        os.makedirs(self.state_dir, exist_ok=True)
        meta, weights = self._state_paths()
        if self.best_weights is not None:  # the weights first: the history never names a best it lacks
            with atomic_path(weights, suffix=".npz") as tmp:
                np.savez(tmp, *self.best_weights)
        write_text(meta, json.dumps({"history": self.history, "best_step": self.best_step,
                                     "best_kid": self.best_kid, "stopped_early": self.stopped_early}))

    def _load_state(self):
        """Read a kept selection back; True when there was one."""
        meta, weights = self._state_paths()
        if not os.path.isfile(meta):
            return False
        with open(meta) as f:
            state = json.load(f)
        now = self._step()
        self.history = [h for h in state["history"] if h["step"] <= now]
        self.best_step, self.best_kid, self.best_weights = None, None, None
        if state["best_step"] is not None and state["best_step"] <= now and os.path.isfile(weights):
            with np.load(weights) as saved:
                values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
            if len(values) != len(self.model.weights):
                raise ValueError(f"KeepBest: the kept best weights in {weights} are of another model "
                                 f"({len(values)} arrays, the model has {len(self.model.weights)})")
            self.best_step, self.best_kid, self.best_weights = state["best_step"], state["best_kid"], values
        # A best made after the checkpoint is dropped: the history's best that remains lost its weights, so the
        # next evaluation is measured against the kept best only.
        return True

    def on_train_begin(self, logs=None):
        resumed = self.state_dir is not None and self._load_state()
        if resumed:
            last = self.history[-1]["step"] if self.history else None
            if self._step() > 0 and last != self._step():  # the checkpoint was written, its evaluation lost
                self._record()
        elif self.evaluate_at_start and not self.history:
            self._record()

    def on_epoch_end(self, epoch, logs=None):
        self._record()

    def restore(self):
        """Put the best weights seen so far back into the model (a no-op before any evaluation)."""
        if self.best_weights is not None:
            for variable, value in zip(self.model.weights, self.best_weights):
                variable.assign(value)

    def on_train_end(self, logs=None):
        if self.restore_best:
            self.restore()
