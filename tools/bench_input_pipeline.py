"""Is training input-bound? DCGAN `Trainer` steps/s on the built-in data pipeline vs on one in-memory batch.

    python tools/bench_input_pipeline.py [--size 32] [--batch 64] [--rounds 7] [--steps 20]

Both paths train the same model (same weights at the start of every round) with the same `Trainer` step;
only the input differs: `load_dataset("digits", ...)` (decode, resize, shuffle, batch, prefetch) or
`Dataset.from_tensors(batch).repeat()`. Rounds are interleaved; the fastest round of each is taken. Target: the
pipeline's step time <= 1.05x the in-memory one.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402

from bench_common import machine, pipeline_vs_batch, round_stats, write_json  # noqa: E402
from keras_transfer_gan import create_model, load_dataset  # noqa: E402
from keras_transfer_gan.training import compile_for_training  # noqa: E402


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
    pipeline = load_dataset("digits", image_size=args.size, batch_size=args.batch, drop_remainder=True).repeat()
    times = pipeline_vs_batch(model, pipeline, args.rounds, args.steps)
    best = {name: round_stats(v)["best"] for name, v in times.items()}  # the fastest round (see round_stats)
    ratio = best["pipeline"] / best["in_memory_batch"]
    for name, value in best.items():
        print(f"{name:<15} {1e3 * value:7.1f} ms/step  ({1 / value:.2f} steps/s)")
    print(f"pipeline / in-memory step time: {ratio:.3f} (target <= 1.05)")
    write_json(args.out, {"config": vars(args), "machine": machine(), "seconds_per_step": times, "best": best,
                          "ratio": ratio})


if __name__ == "__main__":
    main()
