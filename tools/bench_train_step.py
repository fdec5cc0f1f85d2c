"""DCGAN training steps per second: our `fit` path and `Trainer` against a minimal loop.

All three train the identical networks (built by the same functions, from the
same initial weights) with the same optimizers on the same in-memory batch, in
one process. Rounds are interleaved; on the 2-core build machines a round runs
either at full speed or about 2x slower (CPU quota throttling), whichever path
it falls on, so rounds over 1.3x a path's best are left out (and counted) and
each rate is the median of the rest.

    python tools/bench_train_step.py                  # defaults: 32x32, batch 64
    python tools/bench_train_step.py --batch 256 --steps 20 --rounds 3

oneDNN is switched on (TF_ENABLE_ONEDNN_OPTS=1) unless the variable is set.
"""

import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_transfer_gan.data import load_images  # noqa: E402
from keras_transfer_gan.models import DCGAN  # noqa: E402
from keras_transfer_gan.training import Trainer, compile_for_training  # noqa: E402


def minimal_step_fn(generator, discriminator, g_opt, d_opt, latent_dim):
    """The textbook DCGAN step: two tapes, sigmoid cross-entropy, tf.random.normal noise."""
    bce = tf.nn.sigmoid_cross_entropy_with_logits

    @tf.function
    def step(real):
        batch = tf.shape(real)[0]
        z = tf.random.normal([batch, latent_dim])
        with tf.GradientTape() as tape:
            fake = generator(z, training=True)
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(fake, training=True)
            d_loss = tf.reduce_mean(
                bce(labels=tf.ones_like(real_logits), logits=real_logits)
                + bce(labels=tf.zeros_like(fake_logits), logits=fake_logits)
            )
        grads = tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
        z = tf.random.normal([batch, latent_dim])
        with tf.GradientTape() as tape:
            fake_logits = discriminator(generator(z, training=True), training=True)
            g_loss = tf.reduce_mean(bce(labels=tf.ones_like(fake_logits), logits=fake_logits))
        grads = tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        return d_loss, g_loss

    return step


def build(args, weights=None, **compile_kwargs):
    model = DCGAN(latent_dim=args.latent, image_size=args.size, channels=1,
                  g_filters=args.filters, d_filters=args.filters)
    if weights is not None:
        model.set_weights(weights)
    compile_for_training(model, **compile_kwargs)
    return model


def run(args):
    keras.utils.set_random_seed(0)
    images, _ = load_images("digits", image_size=args.size)
    reps = int(np.ceil(args.batch / len(images)))
    batch = tf.constant(np.concatenate([images] * reps)[: args.batch])
    data = tf.data.Dataset.from_tensors(batch).repeat(args.steps).cache()

    fit_model = build(args, steps_per_execution=args.steps_per_execution)
    weights = fit_model.get_weights()
    trainer_model = build(args, weights)
    trainer = Trainer(trainer_model, verbose=0)
    minimal_model = build(args, weights)
    minimal = minimal_step_fn(minimal_model.generator, minimal_model.discriminator,
                              minimal_model.g_optimizer, minimal_model.d_optimizer, args.latent)

    def time_fit():
        start = time.perf_counter()
        fit_model.fit(data, epochs=1, verbose=0)
        return time.perf_counter() - start

    def time_trainer():
        start = time.perf_counter()
        trainer.fit(data, epochs=1)
        return time.perf_counter() - start

    def time_minimal():
        start = time.perf_counter()
        for real in data:
            out = minimal(real)
        float(out[0])
        return time.perf_counter() - start

    paths = {"fit": time_fit, "trainer": time_trainer, "minimal": time_minimal}
    for fn in paths.values():  # trace and warm up
        fn()
    times = {name: [] for name in paths}
    for _ in range(args.rounds):
        for name, fn in paths.items():
            times[name].append(fn())
    # On the 2-core build machines a round runs either at full speed or about
    # twice as long (CPU quota throttling), whichever path it falls on. Rounds
    # over 1.3x a path's best are counted as throttled and left out; rates are
    # the median of the remaining rounds.
    kept = {name: [t for t in seconds if t <= 1.3 * min(seconds)] for name, seconds in times.items()}
    rate = {name: args.steps / float(np.median(seconds)) for name, seconds in kept.items()}
    ratio = {name: rate[name] / rate["minimal"] for name in ("fit", "trainer")}
    throttled = {name: len(times[name]) - len(kept[name]) for name in times}
    return {
        "config": vars(args),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
        "steps_per_s": rate,
        "round_seconds": times,
        "fit_over_minimal": ratio["fit"],
        "trainer_over_minimal": ratio["trainer"],
        "throttled_rounds": throttled,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32, help="image size (16, 32, 64)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--filters", type=int, default=64, help="g_filters = d_filters")
    parser.add_argument("--latent", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps_per_execution", type=int, default=1, help="for fit")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    result = run(args)
    print(f"DCGAN {args.size}x{args.size}, batch {args.batch}, filters {args.filters}; "
          f"TF {result['tensorflow']}, Keras {result['keras']}, oneDNN={result['onednn']}, {result['machine']}")
    for name, value in result["steps_per_s"].items():
        print(f"  {name:<8} {value:8.2f} steps/s")
    print(f"  fit / minimal     = {result['fit_over_minimal']:.3f}")
    print(f"  trainer / minimal = {result['trainer_over_minimal']:.3f}")
    print(f"  throttled rounds left out: {result['throttled_rounds']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
