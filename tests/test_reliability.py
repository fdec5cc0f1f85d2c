"""Reliability: crash-safe resume under SIGKILL, deterministic runs, bad inputs rejected cleanly."""

import hashlib
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KTG = [sys.executable, "-c", "from keras_transfer_gan.cli import run; run()"]


def _checkpoint_step(directory):
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(directory)
    if latest is None:
        return None
    reader = tf.train.load_checkpoint(latest)  # fails loudly on a half-written checkpoint
    return int(reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE"))


@pytest.mark.slow
def test_sigkill_at_random_moments_always_resumes(tmp_path):
    out = tmp_path / "run"
    argv = KTG + ["train", "--model", "dcgan", "--tiny", "--image_size", "16", "--dataset", "digits", "--limit", "256",
                  "--batch_size", "16", "--epochs", "400", "--checkpoint_every", "3", "--out", str(out), "--resume",
                  "--verbose", "0"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    rng = random.Random(0)
    steps = []
    for _ in range(5):
        job = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(9.0, 16.0))  # start-up is ~6-8 s: kills land in start-up, restore or training
        job.send_signal(signal.SIGKILL)
        job.wait()
        steps.append(_checkpoint_step(str(out / "checkpoints")))
    recorded = [s for s in steps if s is not None]
    assert recorded, f"no checkpoint after 5 runs: {steps}"
    assert recorded == sorted(recorded), f"the step went back: {steps}"
    assert recorded[-1] > recorded[0], f"training never progressed across restarts: {steps}"
    # one more run resumes from the last checkpoint and says so
    final = subprocess.run(argv[:-2] + ["--verbose", "1", "--epochs", str(recorded[-1] // 16 + 2)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]
    assert f"at step {recorded[-1]}" in final.stdout
    assert _checkpoint_step(str(out / "checkpoints")) > recorded[-1]


def _weights_digest(path):
    import keras

    import keras_transfer_gan.models as registers_the_classes  # noqa: F401

    model = keras.models.load_model(path)
    return hashlib.sha256(b"".join(np.asarray(w.numpy()).tobytes() for w in model.weights)).hexdigest()


def test_deterministic_runs_give_identical_weights(tmp_path):
    digests = []
    for run in ("a", "b"):
        out = tmp_path / run
        job = subprocess.run(KTG + ["train", "--model", "dcgan", "--tiny", "--image_size", "16", "--dataset",
                                    "digits", "--limit", "64", "--batch_size", "16", "--epochs", "2", "--seed", "3",
                                    "--deterministic", "--out", str(out), "--verbose", "0"],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert job.returncode == 0, job.stderr[-2000:]
        digests.append(_weights_digest(str(out / "model.keras")))
    assert digests[0] == digests[1]
