"""The whole benchmark suite at its default settings (under 10 minutes on 2 CPU cores): figures + tables.

    python tools/bench_suite.py                 # or: make bench
    python tools/bench_suite.py --out /tmp/bench --skip inference

Runs, one process each (so every ratio is measured against a baseline run in
the same process), after measuring the float32 matmul peak here:

- `bench_train_step.py` for DCGAN, WGAN-GP and VAE at 32x32 and 64x64 (batch 64, 32 filters):
  `fit`, `Trainer` and the minimal loop (WGAN-GP 64x64 at batch 32);
- the same for DCGAN 32x32 with XLA on (fit, Trainer), mixed_bfloat16 (fit, Trainer),
  steps_per_execution=10 (fit) and the CLI's sampling callbacks (Trainer);
- the TF tutorial's DCGAN at batch 256: fit, Trainer, minimal loop, and PyTorch eager when torch is
  installed (`pip install torch==2.13.0`);
- `bench_input_pipeline.py` (built-in pipeline vs in-memory batch);
- `bench_inference.py` (Keras, SavedModel, TFLite float32/int8 at batch 1 and 64; text characters/s).

Writes one JSON per run, ``suite.json`` and ``summary.md`` (the tables in docs/BENCHMARKS.md) to --out.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))

MATRIX = [(model, size) for model in ("dcgan", "wgan_gp", "vae") for size in (32, 64)]
OPTION_VARIANTS = "fit,trainer,minimal,fit+xla,trainer+xla,fit+bf16,trainer+bf16,fit+spe10,trainer+cb"


def runs(out, peak, rounds=5, round_seconds=0.8):
    """``[(name, argv)]`` of the suite's processes (`rounds` x `round_seconds` for the train-step matrix)."""
    train = [sys.executable, os.path.join(HERE, "bench_train_step.py"), "--peak_gflops", f"{peak:.1f}"]
    jobs = []
    for model, size in MATRIX:
        # WGAN-GP's step (5 critic steps with a double backward) takes 13-28 s to trace: count its FLOPs
        # on the minimal step only (our train_step's count equals it; run the tool alone to see both).
        # Its 64x64 step at batch 64 takes 2.3 s: batch 32 there keeps the suite under 10 minutes.
        flops = ["--flops", "minimal"] if model == "wgan_gp" else []
        if (model, size) == ("wgan_gp", 64):
            flops += ["--batch", "32"]
        jobs.append((f"train_{model}_{size}", train + flops + [
            "--model", model, "--size", str(size), "--filters", "32", "--rounds", str(rounds),
            "--round_seconds", str(round_seconds),
            "--json", os.path.join(out, f"train_{model}_{size}.json")]))
    jobs.append(("train_dcgan_32_options", train + [
        "--model", "dcgan", "--size", "32", "--filters", "32", "--rounds", "4", "--round_seconds", "0.8",
        "--variants", OPTION_VARIANTS, "--json", os.path.join(out, "train_dcgan_32_options.json")]))
    jobs.append(("train_reference_dcgan", train + [
        "--model", "reference_dcgan", "--variants", "fit,trainer,minimal,torch", "--rounds", "4",
        "--round_seconds", "2", "--json", os.path.join(out, "train_reference_dcgan.json")]))
    jobs.append(("input_pipeline", [sys.executable, os.path.join(HERE, "bench_input_pipeline.py"), "--rounds", "4",
                                    "--steps", "6", "--out", os.path.join(out, "input_pipeline.json")]))
    jobs.append(("inference", [sys.executable, os.path.join(HERE, "bench_inference.py"), "--seconds", "0.5",
                               "--rounds", "3", "--no_peak", "--out", os.path.join(out, "inference.json")]))
    return jobs


def _load(out, name):
    path = os.path.join(out, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def summary(out, peak, seconds):
    """The suite's tables in Markdown, from the JSON files in `out`."""
    lines = [f"Suite wall time: {seconds / 60:.1f} min. float32 matmul peak: {peak:.0f} GFLOP/s.", ""]
    rows = [(m, s, _load(out, f"train_{m}_{s}")) for m, s in MATRIX]
    rows = [(m, s, r) for m, s, r in rows if r]
    if rows:
        lines += ["| model | size (batch) | GFLOP/step | fit steps/s | Trainer steps/s | minimal steps/s | fit / minimal | "
                  "Trainer / minimal | same, by CPU time | minimal GFLOP/s (% of peak) |", "|---" * 10 + "|"]
        for model, size, r in rows:
            rate, ratio, cpu = r["steps_per_s"], r["ratio_to_baseline"], r["cpu_seconds_per_step"]
            gf = r["gflops_per_s"]["minimal"]
            lines.append(f"| {model} | {size} ({r['config']['batch']}) | {r['flops_per_step']['minimal']['total'] / 1e9:.2f} | "
                         f"{rate['fit']:.2f} | {rate['trainer']:.2f} | {rate['minimal']:.2f} | "
                         f"**{ratio['fit']:.3f}** | **{ratio['trainer']:.3f}** | "
                         f"{cpu['minimal'] / cpu['fit']:.3f} / {cpu['minimal'] / cpu['trainer']:.3f} | "
                         f"{gf:.0f} ({100 * gf / peak:.0f}%) |")
        lines.append("")
    options = _load(out, "train_dcgan_32_options")
    if options:
        rate, first = options["steps_per_s"], options["first_call_seconds"]
        lines += ["DCGAN 32x32, batch 64, 32 filters: XLA, mixed precision and steps_per_execution.", "",
                  "| variant | steps/s | vs the same path plain | first call (s) |", "|---|---|---|---|"]
        for spec, value in rate.items():
            plain = spec.split("+")[0]
            lines.append(f"| {spec} | {value:.2f} | {value / rate[plain]:.3f} | {first[spec]:.1f} |")
        lines.append("")
    ref = _load(out, "train_reference_dcgan")
    if ref:
        rate = ref["steps_per_s"]
        lines += [f"TF tutorial DCGAN, batch 256, {ref['flops_per_step']['minimal']['total'] / 1e9:.1f} GFLOP/step.", "",
                  "| path | steps/s | / minimal | / PyTorch eager | GFLOP/s (% of peak) |", "|---|---|---|---|---|"]
        for spec, value in rate.items():
            vs_torch = f"{value / rate['torch']:.2f}" if "torch" in rate else "n/a"
            gf = ref["gflops_per_s"][spec]
            lines.append(f"| {spec} | {value:.3f} | {value / rate['minimal']:.3f} | {vs_torch} | "
                         f"{gf:.0f} ({100 * gf / peak:.0f}%) |")
        if "torch_version" in ref:
            lines.append(f"\nPyTorch {ref['torch_version']} (CPU build), eager, {os.cpu_count()} threads.")
        lines.append("")
    pipe = _load(out, "input_pipeline")
    if pipe:
        med = pipe["best"]
        lines += [f"Input pipeline (DCGAN 32x32, 64 filters, batch 64, Trainer): built-in pipeline "
                  f"{1e3 * med['pipeline']:.1f} ms/step, in-memory batch {1e3 * med.get('in_memory_batch', med.get('in_memory')):.1f} ms/step: "
                  f"**{pipe['ratio']:.3f}x** (target <= 1.05).", ""]
    inf = _load(out, "inference")
    if inf:
        lines += ["| batch | Keras (tf.function) | SavedModel | TFLite float32 | TFLite int8 |", "|---|---|---|---|---|"]
        for batch, row in inf["images_per_s"].items():
            base = row["keras (tf.function)"]
            cells = [f"{v:,.0f} ({v / base:.2f}x)" for v in row.values()]
            lines.append(f"| {batch} | " + " | ".join(cells) + " |")
        lines += ["", f"TFLite int8 / float32 at batch 1: **{inf['tflite_int8_vs_float_batch1']:.2f}x**. Text "
                  f"({inf.get('text_chars_per_s_python_loop', 0):,.0f} characters/s stepping from Python, "
                  f"{inf['text_chars_per_s']:,.0f} with `model.generate`, {inf['text_chars_per_s_savedmodel']:,.0f} "
                  "with the SavedModel's `generate` signature).", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/bench")
    parser.add_argument("--skip", default="", help="comma-separated run names to leave out")
    parser.add_argument("--only", default="", help="comma-separated run names to run (default: all)")
    parser.add_argument("--train_rounds", type=int, default=5,
                        help="rounds of the train-step matrix (DCGAN, WGAN-GP, VAE at 32 and 64)")
    parser.add_argument("--train_round_seconds", type=float, default=0.8,
                        help="seconds per round of the train-step matrix (longer rounds: steadier ratios)")
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    from bench_common import machine, matmul_peak

    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()
    peak = matmul_peak(seconds=1.0, rounds=5)
    print(f"{machine()}\nfloat32 matmul peak: {peak:.1f} GFLOP/s", flush=True)
    skip, only = set(filter(None, args.skip.split(","))), set(filter(None, args.only.split(",")))
    timings = {}
    for name, argv in runs(args.out, peak, args.train_rounds, args.train_round_seconds):
        if name in skip or (only and name not in only):
            continue
        t0 = time.perf_counter()
        print(f"\n== {name}", flush=True)
        done = subprocess.run(argv, text=True, capture_output=True)
        timings[name] = round(time.perf_counter() - t0, 1)
        print("\n".join(line for line in done.stdout.splitlines() if line.strip()), flush=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"{name} failed with exit code {done.returncode}")
        print(f"({timings[name]} s)", flush=True)
    seconds = time.perf_counter() - start
    with open(os.path.join(args.out, "suite.json"), "w") as f:
        json.dump({"machine": machine(), "matmul_peak_gflops": peak, "run_seconds": timings,
                   "total_seconds": round(seconds, 1)}, f, indent=2)
    table = summary(args.out, peak, seconds)
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(table + "\n")
    print("\n" + table)
    print(f"\nsuite: {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
