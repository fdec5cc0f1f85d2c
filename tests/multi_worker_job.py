"""One worker of the two-process MultiWorkerMirroredStrategy test (reads TF_CONFIG).

Usage: python tests/multi_worker_job.py OUT.npz
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_transfer_gan import create_model  # noqa: E402
from keras_transfer_gan.data import load_dataset  # noqa: E402
from keras_transfer_gan.training import Trainer, compile_for_training, get_strategy  # noqa: E402


def main(out_path):
    strategy = get_strategy("multi_worker")
    keras.utils.set_random_seed(0)
    data = load_dataset("digits", image_size=16, batch_size=16, limit=64, shuffle=False, drop_remainder=True)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    data = data.with_options(options)
    with strategy.scope():
        # Synchronised batch norm: batch statistics over both workers, so the
        # moving averages (not all-reduced like gradients) stay identical too.
        model = create_model("dcgan", tiny=True, sync_batchnorm=True)
        compile_for_training(model, strategy)
    initial = [w.numpy() for w in model.weights]
    history = Trainer(model, strategy, verbose=0).fit(data, epochs=2)
    np.savez(
        out_path,
        replicas=strategy.num_replicas_in_sync,
        steps=history["step"][-1],
        moved=max(float(np.abs(a - w.numpy()).max()) for a, w in zip(initial, model.weights)),
        **{f"w{i}": w.numpy() for i, w in enumerate(model.weights)},
    )


if __name__ == "__main__":
    main(sys.argv[1])
