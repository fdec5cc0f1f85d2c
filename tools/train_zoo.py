"""Train a zoo checkpoint from `zoo/NAME/config.json` and write it, its card and checksum.

    python tools/train_zoo.py dcgan_fashion_base      # one
    python tools/train_zoo.py --all                   # every zoo/NAME/ (the evaluators first)
    python tools/train_zoo.py --real                  # the real-data ones (MNIST, Fashion-MNIST, MNIST-M)

Writes `saved_models/NAME/` (model.keras without optimizer state, model.keras.sha256, config.json,
metrics.json, samples.png or samples.txt) atomically (a temporary sibling renamed into place), and
`zoo/NAME/MODEL_CARD.md` with the data, steps, training time and metrics measured here.

Real-data configs (``"eval": {"split": "test"}``) train on the train split and are measured on the test
split, which they never see: a classifier's accuracy and its domain's floor (FID between two disjoint
halves of the test split on its own features); a generator's FID/KID/IS/precision/recall on its domain's
evaluator (`extractor_for`), beside that floor (`evaluate_generator`). The evaluators are classifiers of
this zoo, so train them first (``--all`` does). The toy configs (scikit-learn's digits, faces) measure
against their training images, as before.
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_transfer_gan import load_pretrained, zoo  # noqa: E402
from keras_transfer_gan.data import Vocabulary, load_images, load_text, mnist_family, text_dataset  # noqa: E402
from keras_transfer_gan.data.datasets import preprocess  # noqa: E402
from keras_transfer_gan.metrics import (  # noqa: E402
    FeatureExtractor,
    evaluate_generator,
    evaluate_samples,
    extractor_for,
    generate_images,
    split_halves,
)
from keras_transfer_gan.registry import build_model, get_entry  # noqa: E402
from keras_transfer_gan.training import KeepBest, Trainer, compile_for_training  # noqa: E402
from keras_transfer_gan.utils.atomic import atomic_directory, write_text  # noqa: E402
from keras_transfer_gan.utils.images import save_grid  # noqa: E402

REAL_DATA = tuple(mnist_family.LOADERS)  # fashion_mnist, mnist, mnist_m, fashion_sketch


def zoo_names(real_only=False):
    """Every zoo/NAME/ with a config.json: classifiers (the evaluators) first, then by name."""
    configs = {name: load_config(name) for name in sorted(os.listdir(zoo.cards_dir()))
               if os.path.isfile(os.path.join(zoo.cards_dir(), name, "config.json"))}
    if real_only:
        configs = {n: c for n, c in configs.items() if is_real(c)}
    return sorted(configs, key=lambda n: (_family(configs[n]) != "classifier", n))


def _family(config):
    return get_entry(config["model"]).model_class.family


def load_config(name):
    path = os.path.join(zoo.cards_dir(), name, "config.json")
    if not os.path.isfile(path):
        sys.exit(f"train_zoo: no config {path}")
    with open(path) as f:
        return json.load(f)


def is_real(config):
    return config["dataset"].split(":")[0] in REAL_DATA


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
    entry = get_entry(kind)
    args = dict(config.get("model_args", {}))
    seed = config.get("seed", 0)
    extra = {}
    if entry.consumes == "text":
        text = load_text(config["dataset"])
        split = int(len(text) * 0.95)
        vocabulary = Vocabulary.from_text(text)
        data = text_dataset(text[:split], vocabulary, seq_len=config["seq_len"], batch_size=config["batch_size"],
                            seed=seed)
        held_out = text_dataset(text[split:], vocabulary, seq_len=config["seq_len"], batch_size=config["batch_size"],
                                shuffle=False)
        model = build_model(kind, vocabulary=vocabulary, seed=seed, **args)
        extra["corpus_chars"] = len(text)
    elif _family(config) == "classifier":
        images, labels = load_images(config["dataset"], image_size=config["image_size"], labels=True, seed=seed)
        if config.get("eval", {}).get("split") == "test":  # real data: the test split is the held-out set
            test_images, test_labels = load_images(config["dataset"], image_size=config["image_size"], labels=True,
                                                   split="test")
            train_images, train_labels = images, labels
        else:
            order = np.random.default_rng(seed).permutation(len(images))
            cut = int(len(images) * (1 - config.get("holdout", 0.2)))
            train_images, train_labels = images[order[:cut]], labels[order[:cut]]
            test_images, test_labels = images[order[cut:]], labels[order[cut:]]
        extra_sets = config.get("extra_patch_seeds", ())  # MNIST-M: the same digits over other photo patches
        if extra_sets:
            train_images = np.concatenate([train_images] + [
                preprocess(mnist_family.mnist_m("train", patch_seed=s)[0], config["image_size"], 3).numpy()
                for s in extra_sets])
            train_labels = np.concatenate([train_labels] * (1 + len(extra_sets)))
        data = tf.data.Dataset.from_tensor_slices((train_images, train_labels)).shuffle(
            len(train_images), seed=seed).batch(config["batch_size"])
        held_out = (test_images, test_labels)
        model = build_model(kind, image_size=config["image_size"], channels=images.shape[-1], seed=seed, **args)
        extra.update(train_images=int(len(train_images)), holdout_images=int(len(test_images)))
    else:
        prepared = entry.training_data(config["dataset"], image_size=config["image_size"],
                                       batch_size=config["batch_size"], seed=seed)
        data = prepared.dataset
        if config.get("repeat", 1) > 1:  # small sets: an "epoch" of several passes (one evaluation per epoch)
            data = data.repeat(config["repeat"])
        model = build_model(kind, seed=seed, **{**prepared.overrides, **args})
        held_out = None
    compile_for_training(model, learning_rate=config.get("lr"))
    callbacks, selector = [], None
    if "select" in config:  # keep the epoch whose samples are closest to train images (KID): GAN runs swing
        select = config["select"]
        held, _ = load_images(config["dataset"], image_size=config["image_size"], limit=select.get("images", 2000),
                              seed=seed + 1)
        selector = KeepBest(held, extractor_for(config["dataset"]), n_samples=select.get("n", 1000), seed=seed,
                            evaluate_at_start=False)
        callbacks.append(selector)
    start = time.perf_counter()
    history = Trainer(model, verbose=1, callbacks=callbacks).fit(data, epochs=config["epochs"])
    seconds = time.perf_counter() - start
    metrics = {"train_seconds": round(seconds, 1), "steps": int(history["step"][-1]),
               "final": {k: round(float(v[-1]), 4) for k, v in history.items() if k != "step"}, **extra}
    if selector is not None:
        metrics["selected"] = {"step": selector.best_step, "train_kid": round(selector.best_kid, 5),
                               "kid_by_step": [[h["step"], round(h["kid"], 5)] for h in selector.history]}
    if model.generates == "text":
        losses = [tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x))).numpy()
                  for x, y in held_out]
        evaluation = {"loss": float(np.mean(losses)), "perplexity": float(np.exp(np.mean(losses)))}
        metrics["sample"] = model.generate("def ", length=300, temperature=0.6, seed=seed)
        metrics["holdout"] = {k: round(float(v), 4) for k, v in evaluation.items()}
    elif model.generates is None:  # a classifier: accuracy on the held-out images, and its domain's floor
        test_images, test_labels = held_out
        accuracy = float(np.mean(model.predict_classes(test_images) == test_labels))
        metrics["holdout"] = {"accuracy": round(accuracy, 4)}
        if is_real(config):
            extractor = FeatureExtractor.from_classifier(model, name=name)
            first, second = split_halves(test_images, seed)
            floor = evaluate_samples(test_images[first], test_images[second], extractor, ("fid", "kid", "pr"),
                                     seed=seed, kid_subset_size=len(second) // 2)
            metrics["floor"] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in floor.items()}
    else:
        metrics["eval"] = evaluate_generator_checkpoint(model, config)
    if is_real(config):
        metrics["data_source"] = mnist_family.source_of(config["dataset"].split(":")[0])
    return model, metrics


def evaluate_generator_checkpoint(model, config):
    """A generator's card metrics: real data against the test split beside its floor (`evaluate_generator`);
    toy data against its first `eval.n` training images. KID subsets are half a set, so its spread means
    something."""
    seed = config.get("seed", 0)
    eval_config = config.get("eval", {})
    if eval_config.get("split") == "test":
        result = evaluate_generator(model, config["dataset"], extractor=eval_config.get("extractor", "auto"),
                                    split="test", seed=seed)
        real, _ = load_images(config["dataset"], image_size=config["image_size"], split="test", limit=256, seed=seed)
    else:
        n = eval_config.get("n", 1000)
        real, _ = load_images(config["dataset"], image_size=config["image_size"], seed=seed)
        fake = generate_images(model, n, seed=seed + 1)
        result = evaluate_samples(real[:n], fake, extractor=eval_config.get("extractor", "digits_classifier"),
                                  seed=seed, kid_subset_size=max(2, min(n, len(real)) // 2))
        real = real[:256]
    result = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items()}
    if model.family == "vae":
        result["reconstruction_mse"] = round(float(np.mean((model.reconstruct(real) - real) ** 2)), 5)
    return result


def recard(name):
    """Measure an existing generator checkpoint again (the model file and its checksum stay) and rewrite its
    metrics and card: for cards written before a change of the evaluation protocol."""
    config = zoo.zoo_config(name)
    model = load_pretrained(name)
    directory = os.path.join(zoo.zoo_dir(), name)
    with open(os.path.join(directory, "metrics.json")) as f:
        metrics = json.load(f)
    metrics["eval"] = evaluate_generator_checkpoint(model, config)
    write_text(os.path.join(directory, "metrics.json"), json.dumps(metrics, indent=2))
    write_card(name, config, model, metrics, zoo.sha256_of(os.path.join(directory, "model.keras")))
    return metrics


def write_checkpoint(name, config, model, metrics):
    """``saved_models/NAME/`` written in a temporary sibling and swapped in (`atomic_directory`)."""
    target = os.path.join(zoo.zoo_dir(), name)
    with atomic_directory(target) as tmp:
        path = os.path.join(tmp, "model.keras")
        _clean_copy(model).save(path)
        digest = zoo.sha256_of(path)
        with open(path + ".sha256", "w") as f:
            f.write(f"{digest}  model.keras\n")
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        with open(os.path.join(tmp, "metrics.json"), "w") as f:
            json.dump(metrics, f, indent=2)
        if model.generates == "text":
            with open(os.path.join(tmp, "samples.txt"), "w", encoding="utf-8") as f:
                f.write(metrics["sample"])
        elif model.generates == "images":
            save_grid(generate_images(model, 64, seed=1), os.path.join(tmp, "samples.png"))
    return target, digest


def _data_line(config):
    spec = config["dataset"]
    size = f", {config['image_size']}x{config['image_size']}" if "image_size" in config else ""
    if is_real(config):
        return f"`{spec}`, train split{size} (source: {config.get('_source') or 'see metrics.json'})"
    return f"`{spec}` (built in: no download){size}"


def _eval_rows(e, real):
    rows = ["| metric | value |", "|---|---|"]
    if real:
        rows.append(f"| FID (features of `{e['extractor']}`) | {e['fid']:.3f} (floor {e['floor_fid']:.3f}: "
                    f"{e['fid_over_floor']:.2f}x) |")
        rows.append(f"| KID | {e['kid']:.4f} +- {e['kid_std']:.4f} (floor {e['floor_kid']:.4f}) |")
    else:
        rows.append(f"| FID (features of `{e['extractor']}`) | {e['fid']:.3f} |")
        rows.append(f"| KID | {e['kid']:.4f} +- {e['kid_std']:.4f} |")
    rows.append(f"| Inception Score (`{e['extractor']}` classes) | {e['is']:.3f} +- {e['is_std']:.3f} |")
    pr = f"| precision / recall (k=3) | {e['precision']:.3f} / {e['recall']:.3f}"
    rows.append(pr + (f" (floor {e['floor_precision']:.3f} / {e['floor_recall']:.3f}) |" if real else " |"))
    rows.append(f"| samples / real images | {e['n_fake']} / {e['n_real']} |")
    if "reconstruction_mse" in e:
        rows.append(f"| reconstruction MSE (256 {'test ' if real else ''}images, [-1, 1]) | "
                    f"{e['reconstruction_mse']:.4f} |")
    return rows


def write_card(name, config, model, metrics, digest):
    size = os.path.getsize(os.path.join(zoo.zoo_dir(), name, "model.keras"))
    real = is_real(config)
    config = dict(config, _source=metrics.get("data_source"))
    lines = [f"# {name}", "", config["description"] + ".", "",
             "| | |", "|---|---|",
             f"| architecture | `{config['model']}` ({type(model).__name__}), {_count(model):,} weights |",
             f"| constructor arguments | `{json.dumps(config.get('model_args', {}))}` |",
             f"| data | {_data_line(config)} |",
             f"| training | {config['epochs']} epochs"
             + (f" of {config['repeat']} passes" if config.get("repeat", 1) > 1 else "")
             + f", {metrics['steps']} steps, batch {config['batch_size']}, seed "
             f"{config.get('seed', 0)} |",
             *([f"| checkpoint | the weights after step {metrics['selected']['step']}: the epoch whose "
                f"{config['select'].get('n', 1000)} samples had the lowest KID against "
                f"{config['select'].get('images', 2000)} train images (`KeepBest`; the test split is never "
                "looked at) |"] if "selected" in metrics else []),
             f"| training time | {metrics['train_seconds']:.0f} s on {os.cpu_count()} CPU cores ({platform.machine()}, "
             f"TensorFlow {tf.__version__}, oneDNN {os.environ.get('TF_ENABLE_ONEDNN_OPTS')}) |",
             f"| file | `saved_models/{name}/model.keras`, {size / 1e6:.2f} MB, no optimizer state |",
             f"| sha256 | `{digest}` |", ""]
    lines += ["## Metrics (measured by `tools/train_zoo.py` with `keras_transfer_gan.metrics`)", ""]
    if "eval" in metrics:
        e = metrics["eval"]
        lines += _eval_rows(e, real) + [""]
        if real:
            lines += [f"Measured on the `test` split of `{config['dataset']}`, never trained on: its images are cut "
                      f"into two disjoint halves A and B; {e['n_fake']} samples are measured against A ({e['n_real']} "
                      "images), and the floor is B measured against A, what a perfect generator would score with "
                      f"the same sample sizes. Features: the `{e['extractor']}` evaluator of this zoo (its "
                      "pooled 128-d features), so the figures rank models of this domain against each other "
                      "and are not comparable with published InceptionV3 numbers.", ""]
        else:
            lines += ["FID and KID here use the small digits classifier's 128-d pooled features, not "
                      "InceptionV3: they compare models of this zoo with each other, not with published numbers.", ""]
    if "holdout" in metrics:
        held = "test split" if real else "held-out part"
        lines += [f"| {held} metric | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in metrics["holdout"].items()]
        if "floor" in metrics:
            f = metrics["floor"]
            lines += [f"| domain floor: FID between two disjoint halves of the test split ({f['n_real']} / "
                      f"{f['n_fake']} images) on these features | {f['fid']:.3f} |",
                      f"| domain floor: KID (same halves) | {f['kid']:.4f} +- {f['kid_std']:.4f} |",
                      f"| domain floor: precision / recall (k=3, same halves) | {f['precision']:.3f} / "
                      f"{f['recall']:.3f} |"]
        lines += [""]
        if "floor" in metrics:
            lines += [f"This classifier is the evaluator of its domain: `get_extractor(\"{name}\")`, "
                      f"`ktg evaluate --extractor {name}` (the default for `{config['dataset']}` data). The floor is "
                      "what two independent draws of real images score against each other: no generator "
                      "measured with the same sample sizes can be expected below it.", ""]
    lines += ["Final training logs: `" + json.dumps(metrics["final"]) + "`", ""]
    if "sample" in metrics:
        lines += ["## Sample (temperature 0.6, prompt `def `)", "", "```", metrics["sample"], "```", ""]
    elif model.generates == "images":
        lines += ["## Samples", "", f"![samples](../../saved_models/{name}/samples.png)", ""]
    lines += ["## Use", "", "```python", "import keras_transfer_gan as ktg",
              f'model = ktg.load_pretrained("{name}")          # sha256-verified',
              "```", "", "## Reproduce", "", "```", f"python tools/train_zoo.py {name}", "```", ""]
    if real:
        lines += ["Limits: 32x32, trained on a CPU in minutes to an hour; a transfer source and a yardstick "
                  "for this toolkit's studies, not a state-of-the-art model.", ""]
    else:
        lines += ["Limits: trained on small, low-resolution built-in data on a CPU for minutes; a starting point "
                  "for transfer and tests, not a state-of-the-art model.", ""]
    with open(os.path.join(zoo.cards_dir(), name, "MODEL_CARD.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--all", action="store_true", help="every zoo/NAME/, the evaluators first")
    parser.add_argument("--real", action="store_true", help="the real-data checkpoints, the evaluators first")
    parser.add_argument("--recard", action="store_true", help="measure the named generator checkpoints again and "
                        "rewrite their metrics and cards, without training")
    args = parser.parse_args()
    names = zoo_names() if args.all else zoo_names(real_only=True) if args.real else args.names
    if not names:
        parser.error("give zoo names, --all or --real")
    if args.recard:
        for name in names:
            print(f"{name}: {json.dumps(recard(name)['eval'])}", flush=True)
        return
    for name in names:
        config = load_config(name)
        model, metrics = train(name, config)
        target, digest = write_checkpoint(name, config, model, metrics)
        write_card(name, config, model, metrics, digest)
        summary = metrics.get("eval") or {**metrics.get("holdout", {}), **{f"floor_{k}": v for k, v in
                                                                             metrics.get("floor", {}).items()}}
        print(f"{name}: {target} ({metrics['train_seconds']:.0f} s) {json.dumps(summary)}", flush=True)


if __name__ == "__main__":
    main()
