"""The main job (`make demo`): few-shot transfer on real data, a GAN and a diffusion model against the strong
baseline, evaluated on the test split, and the transferred generator exported for TF Serving and LiteRT.

    python tools/demo.py [--out demo_out] [--steps 800]

1. loads `dcgan_fashion_base` and `ddim_fashion_base` from the zoo (sha256-verified): a DCGAN and a DDIM
   trained on Fashion-MNIST's 8 base classes, which have never seen a dress or an ankle boot;
2. draws 25 training images of the novel classes 3 and 9 (dress, ankle boot) from the train split, with
   500 other train images held out for best-checkpoint selection;
3. adapts the DCGAN with the study's best GAN method at N = 25 (TrGAN + Freeze-D + ADA) at the
   hyperparameters the study chose on held-out data (`TUNED`) and prints the transfer report and the freeze
   summary;
4. trains the same generator from scratch with DiffAugment (the literature's strong baseline, at its tuned
   learning rate) on the same 25 images for the same number of steps;
5. fine-tunes the DDIM with the study's best diffusion method at N = 25 (`DIFFUSION_METHOD`, at its tuned
   values) for the same training time: `--steps` / `STEP_COST_RATIO` steps, one DDIM step costing that many
   DCGAN steps (the study's measurement);
6. measures the GANs every --eval_every steps against the 2,000 test images of classes 3 and 9 on the
   `fashion_classifier` evaluator (FID, KID, precision/recall, memorisation), keeping each GAN's checkpoint
   with the lowest KID against the held-out train images, and the DDIM once, at its last step (500 samples of
   25 DDIM steps cost it about 50 s on 2 cores, more than its training: a curve of them would not fit);
7. exports the transferred GAN: SavedModel in TF Serving's layout (+ warmup, models.config) and TFLite
   float32 and int8, each checked against Keras; and the DDIM as a SavedModel whose `sample` signature runs the
   whole sampler;
8. writes everything to --out and prints where it went.

This is the study's cell close / close_diffusion, N = 25, seed 0, at a third of its training time (800 DCGAN
steps, 59 DDIM steps: points on the study's own curves) so that it runs in under 5 minutes; the study
(`docs/transfer_study.md`) runs the full time over 3-5 seeds.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


from keras_transfer_gan.data import few_shot_split, load_images  # noqa: E402
from keras_transfer_gan.export import export_saved_model, export_tflite, write_models_config  # noqa: E402
from keras_transfer_gan.metrics import evaluate_samples, extractor_for, get_extractor  # noqa: E402
from keras_transfer_gan.transfer import FreezeSummary, load_pretrained  # noqa: E402
from keras_transfer_gan.study import copier_floor, method_label, run_arm  # noqa: E402
from keras_transfer_gan.utils.images import save_grid  # noqa: E402

DEFAULT_METHOD = "trgan+freeze_d+ada"
BASELINE = "scratch+diffaugment"
DIFFUSION_SOURCE = "ddim_fashion_base"
DIFFUSION_METHOD = "diffusion+lora+pairwise"
#: The study's choices for the close and close_diffusion targets (`docs/transfer_study.json`, "tunings": held-out
#: KID on a draw of the train split, never the test split); a test keeps them equal. Other methods run at their
#: defaults.
TUNED = {DEFAULT_METHOD: {"freeze_d": 1, "learning_rate": 4e-4, "ada_target": 0.4},
         BASELINE: {"learning_rate": 4e-4},
         DIFFUSION_METHOD: {"learning_rate": 1e-2, "pairwise": 1.0}}
#: One training step of `ddim_fashion_base` costs this many of `dcgan_fashion_base` (batch 32, measured by the
#: study with interleaved rounds in one process: `docs/transfer_study.md`); the DDIM trains --steps / this.
STEP_COST_RATIO = 13.61


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.4))
    for name, result in results.items():
        scale = result["step_cost"]
        ax.plot([p["step"] * scale for p in result["curve"]], [p["fid"] for p in result["curve"]], marker="o",
                label=f"{name} ({method_label(result['method'])})")
    ax.set_yscale("log")
    ax.set_xlabel("training time, in DCGAN steps (a DDIM step = %.1f)" % STEP_COST_RATIO)
    ax.set_ylabel("FID against the test split")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_out")
    parser.add_argument("--source", default="dcgan_fashion_base")
    parser.add_argument("--diffusion_source", default=DIFFUSION_SOURCE,
                        help="a DDIM to fine-tune beside the GANs; '' leaves the diffusion arm out")
    parser.add_argument("--target", default="fashion_mnist:3,9")
    parser.add_argument("--limit", type=int, default=25)
    parser.add_argument("--method", default=DEFAULT_METHOD)
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--diffusion_method", default=DIFFUSION_METHOD)
    parser.add_argument("--steps", type=int, default=800, help="the GANs' steps; the DDIM's are these / %g"
                        % STEP_COST_RATIO)
    parser.add_argument("--eval_every", type=int, default=400)
    parser.add_argument("--n_fake", type=int, default=500)
    parser.add_argument("--held_out", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no_tuned", dest="tuned", action="store_false",
                        help="run every method at its defaults instead of the study's choices")
    args = parser.parse_args()
    if args.steps <= 0 or args.steps % args.eval_every:
        parser.error(f"--steps ({args.steps}) must be a positive multiple of --eval_every ({args.eval_every})")
    start = time.perf_counter()
    out = args.out
    os.makedirs(out, exist_ok=True)

    source = load_pretrained(args.source)
    channels = source.channels
    print(f"source: {args.source} ({type(source).__name__}, {source.image_size}x{source.image_size}x{channels})")
    # (name, source, method, steps, evaluated every, cost of a step in DCGAN steps); the DDIM is measured once, at
    # its last step, without a step-0 evaluation or held-out selection: its evaluation costs more than its training
    arms = [("transfer", source, args.method, args.steps, args.eval_every, 1.0),
            ("scratch", source, args.baseline, args.steps, args.eval_every, 1.0)]
    if args.diffusion_source:
        diffusion = load_pretrained(args.diffusion_source)
        if (diffusion.image_size, diffusion.channels) != (source.image_size, channels):
            sys.exit(f"demo: {args.diffusion_source} makes {diffusion.image_size}x{diffusion.image_size}x"
                     f"{diffusion.channels} images, {args.source} {source.image_size}x{source.image_size}x{channels}:"
                     " the arms must train on the same images")
        print(f"source: {args.diffusion_source} ({type(diffusion).__name__}, {diffusion.sampling_steps} sampling "
              "steps)")
        steps = max(1, round(args.steps / STEP_COST_RATIO))
        arms.append(("diffusion", diffusion, args.diffusion_method, steps, steps, STEP_COST_RATIO))
    images, held_out = few_shot_split(args.target, args.limit, args.held_out, source.image_size, channels, args.seed)
    reference, _ = load_images(args.target, image_size=source.image_size, channels=channels, split="test")
    save_grid(images[:64], os.path.join(out, "target_images.png"))
    extractor = get_extractor(extractor_for(args.target))
    key = f"{args.target}-test-{source.image_size}x{channels}"
    print(f"target: {args.limit} images of {args.target} (train split); reference: its {len(reference)} test images "
          f"on {extractor.name}; {len(held_out)} held-out train images for checkpoint selection")

    results = {}
    for name, arm_source, method, steps, eval_every, step_cost in arms:
        weights = TUNED.get(method) if args.tuned else None
        once = step_cost != 1.0  # the DDIM
        print(f"\n== {name}: {method_label(method)}, {steps} steps on {len(images)} images"
              + (f" ({', '.join(f'{k} {v:g}' for k, v in weights.items())}: the study's choice)" if weights else "")
              + (f", the training time of {args.steps} DCGAN steps; measured at its last step" if once else ""))
        result = run_arm(method, arm_source, images, steps, eval_every, reference, extractor, seed=args.seed,
                         n_fake=args.n_fake, reference_key=key, held_out=held_out, weights=weights,
                         keep_best=not once, evaluate_start=not once)
        result["step_cost"] = step_cost
        model = result["model"]
        if result["report"] is not None:
            print(f"Transfer report: {result['report'].counts()}")
            print(result["report"])
            print(f"\nFreeze summary\n{FreezeSummary.of(model, [])}")
        for point in result["curve"]:
            mark = "  <- selected (lowest held-out KID)" if point["step"] == result["selected_step"] else ""
            print(f"  step {point['step']:>5}: FID {point['fid']:8.3f}  KID {point['kid']:.4f}  precision "
                  f"{point['precision']:.2f}  recall {point['recall']:.2f}"
                  + (f"  held-out KID {point['held_out_kid']:.4f}" if point["held_out_kid"] is not None else "")
                  + mark)
        save_grid(model.generate(64, seed=1), os.path.join(out, f"{name}_samples.png"))
        model.save(os.path.join(out, f"{name}.keras"))
        results[name] = result

    transferred = results["transfer"]["model"]
    serving = os.path.join(out, "serving")
    model_name = "dcgan_" + args.target.split(":")[0]
    version = export_saved_model(transferred, serving, model_name, overwrite=True, version=1)
    exported = [f"serving/{model_name}/1/"]
    if "diffusion" in results:
        diffusion_name = "ddim_" + args.target.split(":")[0]
        export_saved_model(results["diffusion"]["model"], serving, diffusion_name, overwrite=True, version=1)
        exported.append(f"serving/{diffusion_name}/1/")
    config = write_models_config(serving)
    tflite = {}
    for mode in ("none", "int8"):
        report = export_tflite(transferred, os.path.join(out, f"generator_{mode}.tflite"), mode)
        tflite[mode] = report.as_dict()
    plot(results, os.path.join(out, "fid.png"))

    floor = copier_floor(images, reference, extractor, args.n_fake, key, args.seed)
    real = evaluate_samples(reference, held_out[:args.n_fake], extractor, ("fid", "pr"), reference_key=key)
    table = ["| run | FID at 0 | FID (selected step) | oracle best FID (step) | KID | precision / recall | "
             f"memorisation | steps to {args.baseline}'s best FID | training s | sampling s / 100 images |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    target = min(p["fid"] for p in results["scratch"]["curve"])
    for name, result in results.items():
        curve = result["curve"]
        first, best = curve[0], min(curve, key=lambda p: p["fid"])
        chosen_step = result["selected_step"] if result["selected_step"] is not None else curve[-1]["step"]
        chosen = next(p for p in curve if p["step"] == chosen_step)
        reach = next((p["step"] for p in curve if p["fid"] <= target), "not reached")
        table.append(f"| {name} ({method_label(result['method'])}) | "
                     + (f"{first['fid']:.2f}" if first["step"] == 0 else "not measured")
                     + f" | {chosen['fid']:.2f} ({chosen['step']}) | {best['fid']:.2f} ({best['step']}) | "
                     f"{chosen['kid']:.4f} +- {chosen['kid_std']:.4f} | {chosen['precision']:.2f} / "
                     f"{chosen['recall']:.2f} | {chosen['nn_train'] / result['nn_real']:.2f} | {reach} | "
                     f"{result['train_seconds']:.0f} | {result['sample_seconds_per_100']:.2f} |")
    table.append(f"| floors: the {args.limit} images repeated / {len(held_out[:args.n_fake])} held-out real images | | "
                 f"{floor['fid']:.2f} / {real['fid']:.2f} | | | recall {floor['recall']:.2f} / {real['recall']:.2f} "
                 "| | | | |")
    seconds = time.perf_counter() - start
    summary = {
        "settings": vars(args), "seconds": round(seconds, 1), "step_cost_ratio": STEP_COST_RATIO,
        "runs": {k: {kk: vv for kk, vv in v.items() if kk not in ("model", "report")} for k, v in results.items()},
        "floors": {"copier_fid": floor["fid"], "real_fid": real["fid"]},
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
    names = ", ".join(f"{name}_samples.png" for name in results)
    for line in [
        f"target_images.png                      the {args.limit} training images",
        f"{names}   64 samples of each run (selected checkpoints)",
        "results.md, results.json, fid.png      FID/KID table, every curve, plot",
        f"{', '.join(f'{name}.keras' for name in results)}   the trained models",
        f"{', '.join(exported)}   SavedModels for TF Serving (+ {os.path.basename(config)})",
        "generator_none.tflite, generator_int8.tflite   the transferred GAN for LiteRT",
    ]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
