"""Inference throughput: generator images/s at batch 1 and 64 for Keras, the exported SavedModel and TFLite
(float32 and int8), text characters/s, and the machine's float32 matmul peak; all in one process.

    python tools/bench_inference.py [--model dcgan_digits] [--text charlstm_pydocs] [--out docs/bench/inference.json]

Each figure is the fastest of --rounds rounds of --seconds each (after a warm-up call): the machine's
stalls only ever slow a round down (see bench_common.round_stats). Ratios are against Keras at the same batch size.
"""

import argparse
import os
import sys
import tempfile

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench_common import machine, matmul_peak, rate, write_json  # noqa: E402
from keras_transfer_gan.export import export_saved_model, export_tflite  # noqa: E402
from keras_transfer_gan.export.tflite import interpreter  # noqa: E402
from keras_transfer_gan.transfer import load_pretrained  # noqa: E402


def python_loop_generate(model, prompt, length, temperature, seed):
    """Baseline: the one-step network stepped from Python, one eager call per character."""
    step = model.step_network()
    states = [tf.zeros((1, model.units))] * 4
    ids = model.vocabulary.encode(prompt)
    for i in ids[:-1]:
        _, *states = step([tf.constant([[i]], tf.int32), *states], training=False)
    current, out = int(ids[-1]), []
    for k in range(length):
        logits, *states = step([tf.constant([[current]], tf.int32), *states], training=False)
        current = int(tf.random.stateless_categorical(logits[:, 1:] / temperature, 1, seed=[seed, k])[0, 0]) + 1
        out.append(current)
    return prompt + model.vocabulary.decode(np.asarray(out, np.int32))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dcgan_digits")
    parser.add_argument("--text", default="charlstm_pydocs")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="docs/bench/inference.json")
    parser.add_argument("--no_peak", dest="peak", action="store_false",
                        help="skip the matmul peak (the suite measures it once for every run)")
    args = parser.parse_args()
    model = load_pretrained(args.model)
    results = {"machine": machine(), "model": args.model, "images_per_s": {}}
    if args.peak:
        results["matmul_peak_gflops"] = round(matmul_peak(min(args.seconds, 1.0), args.rounds), 1)
        print(f"float32 matmul peak (2048^2, tf.function): {results['matmul_peak_gflops']} GFLOP/s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        export_dir = export_saved_model(model, tmp, "gen", warmup=False)
        serving = tf.saved_model.load(export_dir).signatures["serving_default"]
        sampler = tf.function(lambda z: model.sampler(z, training=False))
        for batch in (1, 64):
            z = tf.random.normal([batch, model.latent_dim])
            row = {
                "keras (tf.function)": rate(lambda: sampler(z).numpy(), batch, args.seconds, args.rounds),
                "savedmodel": rate(lambda: serving(z=z)["images"].numpy(), batch, args.seconds, args.rounds),
            }
            for mode in ("none", "int8"):
                path = os.path.join(tmp, f"g_{mode}_{batch}.tflite")
                export_tflite(model, path, mode, batch_size=batch, n_eval=1)
                runner = interpreter(model_path=path).get_signature_runner("serving_default")
                zn = z.numpy()
                row[f"tflite {'float32' if mode == 'none' else mode}"] = rate(
                    lambda: runner(z=zn), batch, args.seconds, args.rounds)
            results["images_per_s"][str(batch)] = {k: round(v, 1) for k, v in row.items()}
            base = row["keras (tf.function)"]
            for name, value in row.items():
                print(f"batch {batch:>2}  {name:<20} {value:9.1f} images/s  ({value / base:.2f}x keras)", flush=True)
        int8_vs_float = row_ratio = results["images_per_s"]["1"]["tflite int8"] / results["images_per_s"]["1"]["tflite float32"]
        results["tflite_int8_vs_float_batch1"] = round(row_ratio, 2)
        print(f"TFLite int8 / float32 at batch 1: {int8_vs_float:.2f}x (target >= 2x)")
    text_model = load_pretrained(args.text)
    length = 200
    text_rounds = min(3, args.rounds)
    results["text_chars_per_s_python_loop"] = round(rate(
        lambda: python_loop_generate(text_model, "def ", length, 0.8, 0), length, args.seconds, text_rounds), 1)
    results["text_chars_per_s"] = round(rate(
        lambda: text_model.generate("def ", length=length, temperature=0.8, seed=0), length, args.seconds,
        text_rounds), 1)
    with tempfile.TemporaryDirectory() as tmp:
        export_dir = export_saved_model(text_model, tmp, "text", warmup=False)
        generate = tf.saved_model.load(export_dir).signatures["generate"]
        inputs = dict(prompt=tf.constant("def "), length=tf.constant(length), temperature=tf.constant(0.8),
                      seed=tf.constant(0))
        results["text_chars_per_s_savedmodel"] = round(rate(lambda: generate(**inputs)["text"].numpy(), length,
                                                            args.seconds, text_rounds), 1)
    base = results["text_chars_per_s_python_loop"]
    for key, label in (("text_chars_per_s_python_loop", "Python step loop (baseline)"),
                       ("text_chars_per_s", "model.generate (in-graph loop)"),
                       ("text_chars_per_s_savedmodel", "SavedModel `generate` signature")):
        print(f"text {args.text}, {label:<32} {results[key]:8.1f} characters/s ({results[key] / base:.1f}x)")
    write_json(args.out, results)


if __name__ == "__main__":
    main()
