"""The main job (`make demo`): transfer the zoo's gray-digits DCGAN to 100 colour digits, compare with scratch,
evaluate both, export the transferred generator for TF Serving and LiteRT.

    python tools/demo.py [--out demo_out] [--steps 600]

1. loads `dcgan_digits` from the zoo (sha256-verified);
2. TrGAN + Freeze-D (2 blocks) + DiffAugment on 100 images of `digits_m` (MNIST-M-style colour digits),
   heads rebuilt from 1 to 3 channels; prints the transfer report and the freeze summary;
3. trains the same generator from scratch on the same 100 images for the same number of steps;
4. measures FID and KID of both against all 1,797 `digits_m` images (digits-classifier features);
5. exports the transferred generator: SavedModel in TF Serving's layout (+ warmup, models.config) and
   TFLite float32 and int8, each checked against Keras;
6. writes everything to --out and prints where it went.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # study_arms


from keras_transfer_gan.data import load_images  # noqa: E402
from keras_transfer_gan.export import export_saved_model, export_tflite, write_models_config  # noqa: E402
from keras_transfer_gan.metrics import get_extractor  # noqa: E402
from keras_transfer_gan.transfer import FreezeSummary, load_pretrained  # noqa: E402
from study_arms import nearest_rmse, run_arm  # noqa: E402
from keras_transfer_gan.utils.images import save_grid  # noqa: E402

ARMS = {"transfer": "trgan_freezed_diffaugment", "scratch": "scratch"}


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.4))
    for name, result in results.items():
        ax.plot([p["step"] for p in result["curve"]], [p["fid"] for p in result["curve"]], marker="o", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("training steps (batch 32, 100 target images)")
    ax.set_ylabel("FID vs all digits_m")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_out")
    parser.add_argument("--source", default="dcgan_digits")
    parser.add_argument("--target", default="digits_m")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--eval_every", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    out = args.out
    os.makedirs(out, exist_ok=True)

    source = load_pretrained(args.source)
    print(f"source: {args.source} ({type(source).__name__}, {source.image_size}x{source.image_size}x{source.channels})")
    images, _ = load_images(args.target, image_size=source.image_size, channels=3, limit=args.limit, seed=args.seed)
    reference, _ = load_images(args.target, image_size=source.image_size, channels=3)
    save_grid(images[:64], os.path.join(out, "target_images.png"))
    held_out = reference[nearest_rmse(reference, images) > 1e-6][:500]
    extractor = get_extractor("digits_classifier")

    results = {}
    for name, method in ARMS.items():
        print(f"\n== {name}: {method}, {args.steps} steps on {len(images)} images of {args.target}")
        result = run_arm(method, source, images, args.steps, args.eval_every, reference, extractor,
                         seed=args.seed, reference_key=f"{args.target}-all-{source.image_size}", held_out=held_out)
        model = result["model"]
        if result["report"] is not None:
            print(f"Transfer report: {result['report'].counts()}")
            print(result["report"])
            print(f"\nFreeze summary\n{FreezeSummary.of(model, [])}")
        for point in result["curve"]:
            print(f"  step {point['step']:>5}: FID {point['fid']:8.3f}  KID {point['kid']:.4f}  "
                  f"precision {point['precision']:.2f}  recall {point['recall']:.2f}")
        save_grid(model.generate(64, seed=1), os.path.join(out, f"{name}_samples.png"))
        model.save(os.path.join(out, f"{name}.keras"))
        results[name] = result

    transferred = results["transfer"]["model"]
    serving = os.path.join(out, "serving")
    version = export_saved_model(transferred, serving, "dcgan_digits_m", overwrite=True, version=1)
    config = write_models_config(serving)
    tflite = {}
    for mode in ("none", "int8"):
        report = export_tflite(transferred, os.path.join(out, f"generator_{mode}.tflite"), mode)
        tflite[mode] = report.as_dict()
    plot(results, os.path.join(out, "fid.png"))

    table = ["| run | FID at 0 | FID at end | best FID (step) | KID at end | precision / recall | memorisation | "
             "steps to scratch's best FID | training s |", "|---|---|---|---|---|---|---|---|---|"]
    target = min(p["fid"] for p in results["scratch"]["curve"])
    for name, result in results.items():
        curve = result["curve"]
        first, last, best = curve[0], curve[-1], min(curve, key=lambda p: p["fid"])
        reach = next((p["step"] for p in curve if p["fid"] <= target), "not reached")
        table.append(f"| {name} ({result['method']}) | {first['fid']:.2f} | {last['fid']:.2f} | {best['fid']:.2f} "
                     f"({best['step']}) | {last['kid']:.3f} +- {last['kid_std']:.3f} | {last['precision']:.2f} / "
                     f"{last['recall']:.2f} | {last['nn_train'] / result['nn_real']:.2f} | {reach} | "
                     f"{result['train_seconds']:.0f} |")
    seconds = time.perf_counter() - start
    summary = {
        "settings": vars(args), "seconds": round(seconds, 1),
        "runs": {k: {kk: vv for kk, vv in v.items() if kk not in ("model", "report")} for k, v in results.items()},
        "transfer_report": results["transfer"]["report"].counts(), "tflite": tflite, "savedmodel": version,
    }
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(summary, f, indent=2)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(table) + "\n")
    print("\n" + "\n".join(table))
    for mode, report in tflite.items():
        print(f"tflite {mode}: {report['size_bytes'] / 1e6:.2f} MB, max |err| vs Keras {report['max_abs_error']:.2g}")
    print(f"\ndemo finished in {seconds / 60:.1f} minutes; outputs in {out}/:")
    for line in [
        "target_images.png                      the 100 training images",
        "transfer_samples.png, scratch_samples.png   64 samples of each run",
        "results.md, results.json, fid.png      FID/KID table, every curve, plot",
        "transfer.keras, scratch.keras          the trained models",
        f"serving/dcgan_digits_m/1/             SavedModel for TF Serving (+ {os.path.basename(config)})",
        "generator_none.tflite, generator_int8.tflite   LiteRT models",
    ]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
