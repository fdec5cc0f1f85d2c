"""Is training input-bound? DCGAN `Trainer` steps/s on the built-in data pipeline vs on one in-memory batch.

    python tools/bench_input_pipeline.py [--size 32] [--batch 64] [--rounds 7] [--steps 20]

Both paths train the same model (same weights at the start of every round) with the same `Trainer` step;
only the input differs: `load_dataset("digits", ...)` (decode, resize, shuffle, batch, prefetch) or
`Dataset.from_tensors(batch).repeat()`. Rounds are interleaved; the fastest round of each is taken. Target: the
pipeline's step time <= 1.05x the in-memory one.
"""

import argparse
import gc
import json
import os
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench_common import machine, round_stats  # noqa: E402
from keras_transfer_gan import create_model, load_dataset  # noqa: E402
from keras_transfer_gan.training import Trainer, compile_for_training  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--filters", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--out", default="docs/bench/input_pipeline.json")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    model = create_model("dcgan", image_size=args.size, g_filters=args.filters, d_filters=args.filters)
    compile_for_training(model)
    start_weights = [w.numpy() for w in model.weights]
    pipeline = load_dataset("digits", image_size=args.size, batch_size=args.batch, drop_remainder=True).repeat()
    batch = next(iter(pipeline))
    in_memory = tf.data.Dataset.from_tensors(batch).repeat()
    trainers = {"pipeline": (Trainer(model, verbose=0), pipeline), "in_memory": (Trainer(model, verbose=0), in_memory)}
    times = {name: [] for name in trainers}
    for name, (trainer, data) in trainers.items():  # warm-up: trace both
        trainer.fit(data, epochs=1, steps_per_epoch=2)
    gc.collect()
    gc.freeze()  # no collector walking the traced graphs in the middle of a round
    for _ in range(args.rounds):
        for name, (trainer, data) in trainers.items():
            for w, v in zip(model.weights, start_weights):
                w.assign(v)
            start = time.perf_counter()
            trainer.fit(data, epochs=1, steps_per_epoch=args.steps)
            times[name].append((time.perf_counter() - start) / args.steps)
    best = {name: round_stats(v)["best"] for name, v in times.items()}  # the fastest round (see round_stats)
    ratio = best["pipeline"] / best["in_memory"]
    for name, value in best.items():
        print(f"{name:<10} {1e3 * value:7.1f} ms/step  ({1 / value:.2f} steps/s)")
    print(f"pipeline / in-memory step time: {ratio:.3f} (target <= 1.05)")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"config": vars(args), "machine": machine(), "seconds_per_step": times, "best": best, "ratio": ratio}, f, indent=2)


if __name__ == "__main__":
    main()
