"""Assertions shared by the tests."""

import numpy as np


def assert_weights_equal(a, b, atol=0.0):
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_allclose(
            np.asarray(wa.numpy()), np.asarray(wb.numpy()), atol=atol, rtol=0, err_msg=wa.path
        )


def spread_weights(model, seed=0):
    """Re-draw every kernel with std 1/sqrt(fan_in) so a fresh tiny model's outputs span their range
    (DCGAN's N(0, 0.02) init leaves them near 0, which makes export error bounds meaningless)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        name = w.path.rsplit("/", 1)[-1]
        if name in ("kernel", "embeddings", "recurrent_kernel") and w.trainable:
            shape = tuple(w.shape)
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
            if "deconv" in w.path:  # Conv2DTranspose kernels are [k, k, out, in]
                fan_in = int(np.prod(shape[:2])) * shape[3]
            w.assign(rng.normal(0, 1.0 / np.sqrt(fan_in), shape).astype("float32"))
    return model


class Concurrent:
    """Subprocesses started together and collected one by one: most of a fresh process's time is importing
    TensorFlow on one core, so a batch of them finishes in about half the time on two cores.

    `start(key, argv, **popen_kwargs)` launches one; `result(key)` waits for it (no clock involved: the
    timeout only catches a hang) and returns a `subprocess.CompletedProcess` with text output.
    """

    def __init__(self, timeout=900):
        self.timeout = timeout
        self.jobs = {}

    def start(self, key, argv, **kwargs):
        import subprocess

        self.jobs[key] = (argv, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                                 **kwargs))

    def result(self, key):
        import subprocess

        argv, job = self.jobs[key]
        try:
            out, err = job.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            job.kill()
            out, err = job.communicate()
        return subprocess.CompletedProcess(argv, job.returncode, out, err)

    def close(self):
        for _, job in self.jobs.values():
            if job.poll() is None:
                job.kill()
                job.communicate()
