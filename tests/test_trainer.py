import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model
from keras_transfer_gan.training import (
    SampleGrid,
    TensorBoardLogger,
    Trainer,
    compile_for_training,
    get_strategy,
)
from tests.helpers import assert_weights_equal

TINY = dict(latent_dim=16, image_size=16, g_filters=8, d_filters=8)


def _model(strategy, optimizer="adam", weights=None, **overrides):
    with strategy.scope():
        model = create_model("dcgan", **{**TINY, **overrides})
        if weights is not None:
            model.set_weights(weights)
        compile_for_training(model, strategy, optimizer=optimizer, learning_rate=0.1 if optimizer == "sgd" else None)
    return model


def test_one_step_on_two_replicas_equals_one_step_on_one(two_cpu_strategy, digits16):
    """The proof that losses are scaled by the global batch.

    SGD, not Adam: Adam's first step is invariant to the gradient's scale and
    would hide a loss scaled by the wrong batch size. Synchronised batch norm
    makes the batch statistics those of the global batch on both sides.
    """
    keras.utils.set_random_seed(0)
    default = tf.distribute.get_strategy()
    single = _model(default, "sgd", sync_batchnorm=True)
    start = [w.numpy() for w in single.weights]
    mirrored = _model(two_cpu_strategy, "sgd", weights=start, sync_batchnorm=True)
    batch = tf.data.Dataset.from_tensor_slices(digits16[:8]).batch(8)

    logs_1 = Trainer(single, default, verbose=0).fit(batch, epochs=1)
    logs_2 = Trainer(mirrored, two_cpu_strategy, verbose=0).fit(batch, epochs=1)

    moved = max(float(np.abs(a - w.numpy()).max()) for a, w in zip(start, single.weights))
    assert moved > 1e-3  # the step really changed the weights
    assert_weights_equal(single, mirrored, atol=2e-6)
    assert logs_1["d_loss"][0] == pytest.approx(logs_2["d_loss"][0], abs=1e-5)
    assert logs_1["g_loss"][0] == pytest.approx(logs_2["g_loss"][0], abs=1e-5)


def test_wrongly_scaled_loss_would_be_caught(two_cpu_strategy, digits16):
    """The parity test can fail: summing per-replica *means* doubles the step on 2 replicas."""
    keras.utils.set_random_seed(0)
    default = tf.distribute.get_strategy()
    single = _model(default, "sgd", sync_batchnorm=True)
    start = [w.numpy() for w in single.weights]
    mirrored = _model(two_cpu_strategy, "sgd", weights=start, sync_batchnorm=True)
    batch = tf.data.Dataset.from_tensor_slices(digits16[:8]).batch(8)
    original = tf.nn.compute_average_loss
    try:
        tf.nn.compute_average_loss = lambda per_example, **kw: tf.reduce_mean(per_example)
        Trainer(single, default, verbose=0).fit(batch, epochs=1)
        Trainer(mirrored, two_cpu_strategy, verbose=0).fit(batch, epochs=1)
    finally:
        tf.nn.compute_average_loss = original
    with pytest.raises(AssertionError):
        assert_weights_equal(single, mirrored, atol=2e-6)


def test_fit_and_trainer_run_the_same_step(digits16):
    keras.utils.set_random_seed(1)
    default = tf.distribute.get_strategy()
    a = _model(default)
    b = _model(default, weights=[w.numpy() for w in a.weights])
    data = tf.data.Dataset.from_tensor_slices(digits16).batch(16)
    a.fit(data, epochs=2, verbose=0, shuffle=False)
    Trainer(b, default, verbose=0).fit(data, epochs=2)
    assert_weights_equal(a, b, atol=1e-6)


def test_fit_under_mirrored_strategy(two_cpu_strategy, digits16):
    model = _model(two_cpu_strategy)
    history = model.fit(tf.data.Dataset.from_tensor_slices(digits16).batch(16), epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])
    assert int(model.g_optimizer.iterations.numpy()) == 4


def test_checkpoint_resume_continues_exactly(tmp_path, digits16):
    """2 epochs, stop, restore into a fresh model, 2 more == 4 epochs straight (noise included)."""
    keras.utils.set_random_seed(2)
    default = tf.distribute.get_strategy()
    data = tf.data.Dataset.from_tensor_slices(digits16).batch(16)  # fixed order
    straight = _model(default)
    start = [w.numpy() for w in straight.weights]
    Trainer(straight, default, verbose=0).fit(data, epochs=4)

    first = _model(default, weights=start)
    Trainer(first, default, checkpoint_dir=str(tmp_path), verbose=0).fit(data, epochs=2)
    resumed = _model(default)  # different initial weights: all must come from the checkpoint
    trainer = Trainer(resumed, default, checkpoint_dir=str(tmp_path), verbose=0)
    history = trainer.fit(data, epochs=4, resume=True)
    assert history["step"] == [12, 16]
    assert int(resumed.g_optimizer.iterations) == 16
    assert_weights_equal(straight, resumed, atol=1e-6)
    # A finished run resumed again does nothing more.
    assert trainer.fit(data, epochs=4, resume=True)["step"] == []


def test_resume_mid_epoch_with_checkpoint_every(tmp_path, digits16):
    keras.utils.set_random_seed(3)
    default = tf.distribute.get_strategy()
    data = tf.data.Dataset.from_tensor_slices(digits16).batch(16)
    straight = _model(default)
    start = [w.numpy() for w in straight.weights]
    Trainer(straight, default, verbose=0).fit(data, epochs=2)

    class Stop(Exception):
        pass

    class StopAfter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise Stop()

    interrupted = _model(default, weights=start)
    with pytest.raises(Stop):
        Trainer(interrupted, default, checkpoint_dir=str(tmp_path), checkpoint_every=3,
                callbacks=[StopAfter()], verbose=0).fit(data, epochs=2)
    ckpt = tf.train.latest_checkpoint(str(tmp_path))
    assert ckpt.endswith("ckpt-4")
    # Make the newest checkpoint the mid-epoch one (step 3), as after a crash.
    os.remove(ckpt + ".index")
    with open(os.path.join(tmp_path, "checkpoint"), "w") as f:
        f.write(f'model_checkpoint_path: "{ckpt[:-1]}3"\n')
    resumed = _model(default)
    Trainer(resumed, default, checkpoint_dir=str(tmp_path), verbose=0).fit(data, epochs=2, resume=True)
    assert_weights_equal(straight, resumed, atol=1e-6)


def test_callbacks_write_grids_and_tensorboard_events(tmp_path, digits16):
    default = tf.distribute.get_strategy()
    model = _model(default)
    grid = SampleGrid(str(tmp_path / "samples"), n=9)
    board = TensorBoardLogger(str(tmp_path / "tb"), n_images=4)
    Trainer(model, default, callbacks=[grid, board], verbose=0).fit(
        tf.data.Dataset.from_tensor_slices(digits16).batch(32), epochs=2
    )
    assert sorted(os.listdir(tmp_path / "samples")) == [
        "samples.png", "samples_epoch001.png", "samples_epoch002.png"
    ]
    from PIL import Image

    with Image.open(tmp_path / "samples" / "samples.png") as img:
        assert img.size == ((3 * 17 + 1) * 2, (3 * 17 + 1) * 2)
    events = [f for f in os.listdir(tmp_path / "tb") if f.startswith("events")]
    assert events
    tags = set()
    for event in tf.compat.v1.train.summary_iterator(str(tmp_path / "tb" / events[0])):
        tags.update(v.tag for v in event.summary.value)
    assert {"d_loss", "g_loss", "samples"} <= tags


def test_trainer_rejects_bad_setups(two_cpu_strategy, digits16):
    default = tf.distribute.get_strategy()
    uncompiled = create_model("dcgan", **TINY)
    with pytest.raises(ValueError, match="compile the model first"):
        Trainer(uncompiled)
    model = _model(default)
    with pytest.raises(ValueError, match="not created in this strategy"):
        Trainer(model, two_cpu_strategy)
    trainer = Trainer(model, default, verbose=0)
    data = tf.data.Dataset.from_tensor_slices(digits16).batch(16)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        trainer.fit(data, epochs=0)
    with pytest.raises(ValueError, match="pass steps_per_epoch"):
        trainer.fit(data.repeat(), epochs=1)
    with pytest.raises(ValueError, match="unknown strategy 'tpu'"):
        get_strategy("tpu")
