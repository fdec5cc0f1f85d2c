"""`HeldOutPerplexity`: a text model's perplexity on held-out text, measured as training goes."""

import keras

from keras_transfer_gan.metrics.perplexity import perplexity


class HeldOutPerplexity(keras.callbacks.Callback):
    """Measure `perplexity` on `text` (never trained on) at the start and at each epoch's end.

    Run `Trainer` in epochs of the evaluation interval to get a curve against steps. ``history`` holds
    ``{"step", "perplexity"}`` entries; ``best`` the lowest.

    Args:
        text: str. Held-out text in the target domain.
        seq_len: int. Window length. Defaults to 64.
    """

    def __init__(self, text, seq_len=64):
        super().__init__()
        self.text, self.seq_len = text, seq_len
        self.history = []

    def _record(self):
        step = int(self.model.optimizer.iterations.numpy())
        self.history.append({"step": step, "perplexity": perplexity(self.model, self.text, self.seq_len)})

    @property
    def best(self):
        return min(self.history, key=lambda h: h["perplexity"]) if self.history else None

    def on_train_begin(self, logs=None):
        if not self.history:
            self._record()

    def on_epoch_end(self, epoch, logs=None):
        self._record()
