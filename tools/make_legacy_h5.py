"""Make the legacy Keras 2 `.h5` fixtures in `tests/fixtures/` with `tf-keras`.

Run in an environment with Keras 2 (this package's own environment has Keras 3):

    python3 -m venv /tmp/legacy && /tmp/legacy/bin/pip install tensorflow==2.21.0 tf-keras==2.21.0
    TF_USE_LEGACY_KERAS=1 /tmp/legacy/bin/python tools/make_legacy_h5.py

It writes a small DCGAN generator (latent 16 -> 16x16x1, with this package's
layer names, as an earlier Keras 2 training script would have saved it):

- ``legacy_generator.h5``: the full model (`model.save(..., save_format="h5")`,
  compiled, so the file also holds a training config Keras 3 cannot read);
- ``legacy_generator_weights.h5``: weights only (`save_weights`);
- ``legacy_generator_io.npz``: a fixed input ``z`` and the Keras 2 output ``images``,
  for the parity test in `tests/test_loading.py`.
"""

import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tf_keras as keras2  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def build(latent_dim=16, filters=16):
    init = keras2.initializers.RandomNormal(stddev=0.02, seed=1)
    z = keras2.Input((latent_dim,), name="z")
    x = keras2.layers.Dense(4 * 4 * 2 * filters, use_bias=False, kernel_initializer=init, name="g_project")(z)
    x = keras2.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name="g_project_bn")(x)
    x = keras2.layers.ReLU(name="g_project_relu")(x)
    x = keras2.layers.Reshape((4, 4, 2 * filters), name="g_reshape")(x)
    x = keras2.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                                      kernel_initializer=init, name="g_up1_deconv")(x)
    x = keras2.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name="g_up1_bn")(x)
    x = keras2.layers.ReLU(name="g_up1_relu")(x)
    x = keras2.layers.Conv2DTranspose(1, 4, strides=2, padding="same", kernel_initializer=init,
                                      name="g_out_deconv")(x)
    images = keras2.layers.Activation("tanh", name="g_out_tanh")(x)
    return keras2.Model(z, images, name="generator")


def main():
    if not keras2.__version__.startswith("2."):
        sys.exit(f"needs Keras 2 (tf-keras), got {keras2.__version__}")
    model = build()
    rng = np.random.default_rng(0)
    # Non-trivial batch-norm statistics, as a trained model would have.
    for layer in model.layers:
        if isinstance(layer, keras2.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([1 + 0.1 * rng.standard_normal(gamma.shape), 0.1 * rng.standard_normal(beta.shape),
                               0.1 * rng.standard_normal(mean.shape), 1 + rng.uniform(0, 0.5, var.shape)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    os.makedirs(OUT, exist_ok=True)
    model.save(os.path.join(OUT, "legacy_generator.h5"), save_format="h5")
    model.save_weights(os.path.join(OUT, "legacy_generator_weights.h5"))
    z = rng.standard_normal((4, 16)).astype("float32")
    np.savez(os.path.join(OUT, "legacy_generator_io.npz"), z=z, images=model.predict(z, verbose=0))
    print(f"wrote legacy_generator.h5, legacy_generator_weights.h5, legacy_generator_io.npz to {OUT} "
          f"(tf-keras {keras2.__version__})")


if __name__ == "__main__":
    main()
