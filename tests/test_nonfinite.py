"""The non-finite guard: stop with the step and the last checkpoint, or skip the batch, or roll back."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model
from keras_transfer_gan.training import NonFiniteLossError, Trainer, compile_for_training


def _poisoned(digits16, bad_batch=2, batch=8):
    images = digits16[: 6 * batch].copy()
    images[bad_batch * batch] = np.nan  # one NaN image in the third batch (step 3)
    return tf.data.Dataset.from_tensor_slices(images).batch(batch)


def _model():
    keras.utils.set_random_seed(0)
    model = create_model("dcgan", tiny=True)
    compile_for_training(model)
    return model


def test_stop_names_the_step_and_the_last_good_checkpoint(digits16, tmp_path):
    model = _model()
    trainer = Trainer(model, checkpoint_dir=str(tmp_path), checkpoint_every=2, verbose=0)
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss at step 3: .*nan.*last good checkpoint: .*ckpt-2"):
        trainer.fit(_poisoned(digits16), epochs=1)
    assert trainer.manager.latest_checkpoint.endswith("ckpt-2")  # nothing bad was saved


def test_skip_restores_the_state_from_before_the_bad_batch(digits16):
    model = _model()
    trainer = Trainer(model, on_nonfinite="skip", verbose=0)
    history = trainer.fit(_poisoned(digits16), epochs=1)
    assert trainer.nonfinite_steps == [3] and history["step"] == [6]
    assert all(np.isfinite(w.numpy()).all() for w in model.weights)
    # the same run without the bad batch gives the same weights (the skipped step left no trace)
    reference = _model()
    clean = np.delete(digits16[:48], np.s_[16:24], axis=0)
    Trainer(reference, verbose=0).fit(tf.data.Dataset.from_tensor_slices(clean).batch(8), epochs=1)
    for a, b in zip(model.weights, reference.weights):
        if "iterations" not in a.path:
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6, err_msg=a.path)


def test_rollback_restores_the_last_checkpoint(digits16, tmp_path):
    model = _model()
    trainer = Trainer(model, checkpoint_dir=str(tmp_path), checkpoint_every=2, on_nonfinite="rollback", verbose=0)
    trainer.fit(_poisoned(digits16), epochs=1)
    assert trainer.nonfinite_steps == [3] and int(trainer.step.numpy()) == 5  # back to 2, then 3 more batches
    assert all(np.isfinite(w.numpy()).all() for w in model.weights)
    with pytest.raises(ValueError, match="on_nonfinite must be one of"):
        Trainer(model, on_nonfinite="ignore")
