"""Train a zoo checkpoint from `zoo/NAME/config.json` on built-in data and write it, its card and checksum.

    python tools/train_zoo.py dcgan_digits            # one
    python tools/train_zoo.py --all                   # every zoo/NAME/ (digits_classifier first)

Writes `saved_models/NAME/` (model.keras without optimizer state, model.keras.sha256, config.json,
metrics.json, samples.png or samples.txt) atomically (a temporary sibling renamed into place), and
`zoo/NAME/MODEL_CARD.md` with the data, steps, training time and metrics measured here. GAN and VAE
metrics use the `digits_classifier` checkpoint as the feature extractor, so train that one first.
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_transfer_gan import create_model, zoo  # noqa: E402
from keras_transfer_gan.data import Vocabulary, load_dataset, load_images, load_text, text_dataset  # noqa: E402
from keras_transfer_gan.metrics import evaluate_samples, generate_images  # noqa: E402
from keras_transfer_gan.training import Trainer, compile_for_training  # noqa: E402
from keras_transfer_gan.utils.images import save_grid  # noqa: E402

ORDER = ["digits_classifier", "dcgan_digits", "wgan_gp_digits", "acgan_digits", "vae_digits", "dcgan_faces",
         "charlstm_pydocs"]


def _clean_copy(model):
    """The same weights in an uncompiled model: zoo files carry no optimizer state (a third of the size)."""
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def _count(model):
    return int(sum(np.prod(w.shape) for w in model.weights))


def train(name, config):
    keras.utils.set_random_seed(config.get("seed", 0))
    kind = config["model"]
    args = dict(config.get("model_args", {}))
    seed = config.get("seed", 0)
    extra = {}
    if kind == "char_lstm":
        text = load_text(config["dataset"])
        split = int(len(text) * 0.95)
        vocabulary = Vocabulary.from_text(text)
        data = text_dataset(text[:split], vocabulary, seq_len=config["seq_len"], batch_size=config["batch_size"],
                            seed=seed)
        held_out = text_dataset(text[split:], vocabulary, seq_len=config["seq_len"], batch_size=config["batch_size"],
                                shuffle=False)
        model = create_model(kind, vocabulary=vocabulary, seed=seed, **args)
        extra["corpus_chars"] = len(text)
    elif kind == "classifier":
        images, labels = load_images(config["dataset"], image_size=config["image_size"], labels=True, seed=seed)
        order = np.random.default_rng(seed).permutation(len(images))
        cut = int(len(images) * (1 - config.get("holdout", 0.2)))
        train_idx, test_idx = order[:cut], order[cut:]
        data = tf.data.Dataset.from_tensor_slices((images[train_idx], labels[train_idx])).shuffle(
            cut, seed=seed).batch(config["batch_size"])
        held_out = tf.data.Dataset.from_tensor_slices((images[test_idx], labels[test_idx])).batch(256)
        model = create_model(kind, image_size=config["image_size"], channels=images.shape[-1], seed=seed, **args)
        extra.update(train_images=int(cut), holdout_images=int(len(test_idx)))
    else:
        labelled = kind in ("acgan", "cgan", "cvae")
        data = load_dataset(config["dataset"], image_size=config["image_size"], batch_size=config["batch_size"],
                            seed=seed, labels=labelled, drop_remainder=True)
        spec = data.element_spec[0] if labelled else data.element_spec
        model = create_model(kind, image_size=config["image_size"], channels=int(spec.shape[-1]), seed=seed, **args)
        held_out = None
    compile_for_training(model, learning_rate=config.get("lr"))
    start = time.perf_counter()
    history = Trainer(model, verbose=1).fit(data, epochs=config["epochs"])
    seconds = time.perf_counter() - start
    metrics = {"train_seconds": round(seconds, 1), "steps": int(history["step"][-1]),
               "final": {k: round(float(v[-1]), 4) for k, v in history.items() if k != "step"}, **extra}
    if kind == "char_lstm":
        losses = [tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x))).numpy()
                  for x, y in held_out]
        evaluation = {"loss": float(np.mean(losses)), "perplexity": float(np.exp(np.mean(losses)))}
        metrics["sample"] = model.generate("def ", length=300, temperature=0.6, seed=seed)
        metrics["holdout"] = {k: round(float(v), 4) for k, v in evaluation.items()}
    elif kind == "classifier":
        evaluation = model.evaluate(held_out, verbose=0, return_dict=True)
        metrics["holdout"] = {k: round(float(v), 4) for k, v in evaluation.items()}
    else:
        eval_config = config.get("eval", {})
        n = eval_config.get("n", 1000)
        real, _ = load_images(config["dataset"], image_size=config["image_size"], seed=seed)
        fake = generate_images(model, n, seed=seed + 1)
        result = evaluate_samples(real[:n], fake, extractor=eval_config.get("extractor", "digits_classifier"),
                                  seed=seed)
        metrics["eval"] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items()}
        if kind == "vae":
            rec = model.reconstruct(real[:256])
            metrics["eval"]["reconstruction_mse"] = round(float(np.mean((rec - real[:256]) ** 2)), 5)
    return model, metrics


def write_checkpoint(name, config, model, metrics):
    target = os.path.join(zoo.zoo_dir(), name)
    os.makedirs(zoo.zoo_dir(), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=zoo.zoo_dir())
    try:
        path = os.path.join(tmp, "model.keras")
        _clean_copy(model).save(path)
        digest = zoo.sha256_of(path)
        with open(path + ".sha256", "w") as f:
            f.write(f"{digest}  model.keras\n")
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        with open(os.path.join(tmp, "metrics.json"), "w") as f:
            json.dump(metrics, f, indent=2)
        if config["model"] == "char_lstm":
            with open(os.path.join(tmp, "samples.txt"), "w", encoding="utf-8") as f:
                f.write(metrics["sample"])
        elif config["model"] != "classifier":
            save_grid(generate_images(model, 64, seed=1), os.path.join(tmp, "samples.png"))
        old = None
        if os.path.exists(target):
            old = f"{tmp}-old"
            os.replace(target, old)
        os.replace(tmp, target)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target, digest


def write_card(name, config, model, metrics, digest):
    size = os.path.getsize(os.path.join(zoo.zoo_dir(), name, "model.keras"))
    lines = [f"# {name}", "", config["description"] + ".", "",
             "| | |", "|---|---|",
             f"| architecture | `{config['model']}` ({type(model).__name__}), {_count(model):,} weights |",
             f"| constructor arguments | `{json.dumps(config.get('model_args', {}))}` |",
             f"| data | `{config['dataset']}` (built in: no download)"
             + (f", {config['image_size']}x{config['image_size']}" if "image_size" in config else "") + " |",
             f"| training | {config['epochs']} epochs, {metrics['steps']} steps, batch {config['batch_size']}, seed "
             f"{config.get('seed', 0)} |",
             f"| training time | {metrics['train_seconds']:.0f} s on {os.cpu_count()} CPU cores ({platform.machine()}, "
             f"TensorFlow {tf.__version__}, oneDNN {os.environ.get('TF_ENABLE_ONEDNN_OPTS')}) |",
             f"| file | `saved_models/{name}/model.keras`, {size / 1e6:.2f} MB, no optimizer state |",
             f"| sha256 | `{digest}` |", ""]
    lines += ["## Metrics (measured by `tools/train_zoo.py` with `keras_transfer_gan.metrics`)", ""]
    if "eval" in metrics:
        e = metrics["eval"]
        lines += ["| metric | value |", "|---|---|",
                  f"| FID (features of `{e['extractor']}`) | {e['fid']:.3f} |",
                  f"| KID | {e['kid']:.4f} +- {e['kid_std']:.4f} |",
                  f"| Inception Score (`{e['extractor']}` classes) | {e['is']:.3f} +- {e['is_std']:.3f} |",
                  f"| precision / recall (k=3) | {e['precision']:.3f} / {e['recall']:.3f} |",
                  f"| samples / real images | {e['n_fake']} / {e['n_real']} |"]
        if "reconstruction_mse" in e:
            lines.append(f"| reconstruction MSE (256 images, [-1, 1]) | {e['reconstruction_mse']:.4f} |")
        lines += ["", "FID and KID here use the small digits classifier's 128-d pooled features, not "
                  "InceptionV3: they compare models of this zoo with each other, not with published numbers.", ""]
    if "holdout" in metrics:
        lines += ["| held-out metric | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in metrics["holdout"].items()] + [""]
    lines += ["Final training logs: `" + json.dumps(metrics["final"]) + "`", ""]
    if "sample" in metrics:
        lines += ["## Sample (temperature 0.6, prompt `def `)", "", "```", metrics["sample"], "```", ""]
    elif config["model"] != "classifier":
        lines += ["## Samples", "", f"![samples](../../saved_models/{name}/samples.png)", ""]
    lines += ["## Use", "", "```python", "import keras_transfer_gan as ktg",
              f'model = ktg.load_pretrained("{name}")          # sha256-verified',
              "```", "", "## Reproduce", "", "```", f"python tools/train_zoo.py {name}", "```", "",
              "Limits: trained on small, low-resolution built-in data on a CPU for minutes; a starting point "
              "for transfer and tests, not a state-of-the-art model.", ""]
    with open(os.path.join(zoo.cards_dir(), name, "MODEL_CARD.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--all", action="store_true")
    args = parser.parse_args()
    names = ORDER if args.all else args.names
    if not names:
        parser.error("give zoo names or --all")
    for name in names:
        config_path = os.path.join(zoo.cards_dir(), name, "config.json")
        if not os.path.isfile(config_path):
            sys.exit(f"train_zoo: no config {config_path}")
        with open(config_path) as f:
            config = json.load(f)
        model, metrics = train(name, config)
        target, digest = write_checkpoint(name, config, model, metrics)
        write_card(name, config, model, metrics, digest)
        print(f"{name}: {target} ({metrics['train_seconds']:.0f} s) {json.dumps(metrics.get('eval') or metrics.get('holdout'))}")


if __name__ == "__main__":
    main()
