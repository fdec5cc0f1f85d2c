"""Assertions shared by the tests."""

import numpy as np


def assert_weights_equal(a, b, atol=0.0):
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_allclose(
            np.asarray(wa.numpy()), np.asarray(wb.numpy()), atol=atol, rtol=0, err_msg=wa.path
        )
