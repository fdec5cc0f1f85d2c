"""Train a zoo checkpoint from `zoo/NAME/config.json` and write it, its card and checksum.

    python tools/train_zoo.py dcgan_fashion_base      # one
    python tools/train_zoo.py --all                   # every zoo/NAME/ (the evaluators first)
    python tools/train_zoo.py --real                  # the real-data ones (MNIST, Fashion-MNIST, MNIST-M)

Writes `saved_models/NAME/` (model.keras without optimizer state, model.keras.sha256, config.json,
metrics.json, samples.png or samples.txt) atomically (a temporary sibling renamed into place), and
`zoo/NAME/MODEL_CARD.md` with the data, steps, training time and metrics measured here.

A run resumes: the trainer's checkpoint (each epoch end), the best-checkpoint selection and the training time so
far are kept in `.zoo_runs/NAME/` (ignored by git) while it trains, so a killed run started again with the same
config goes on from its last epoch (``--fresh`` starts over; a changed config starts over by itself), and the
directory is removed once the checkpoint is written.

A generator config may name a zoo checkpoint to compare with at the same training time
(``"compare": "dcgan_fashion_base"``): the weights at the first epoch end whose training time reaches that
checkpoint's are kept and measured on the test split beside it, in metrics.json and the card.

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
import shutil
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
from keras_transfer_gan.utils.atomic import atomic_directory, atomic_path, write_text  # noqa: E402
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


def _weights_text(model):
    """The card's weight count; for a model that keeps an EMA copy of its network, what the count holds."""
    ema, trained = model.ema_pair() if hasattr(model, "ema_pair") else (None, None)
    text = f"{_count(model):,} weights"
    if ema is not None:
        text += f" ({_count(ema):,} of them the EMA copy of the trained `{trained.name}`, which samples)"
    return text


RUNS_DIR = os.environ.get("KTG_ZOO_RUNS_DIR") or os.path.join(ROOT, ".zoo_runs")


class TrainingClock(keras.callbacks.Callback):
    """Training seconds summed over the sessions of a resumed run (kept in `path` at each epoch end); with
    `reference_seconds`, the weights at the first epoch end that reaches them are kept (`snapshot_path`): the
    `selector`'s best so far when there is one (after it, in the callbacks), as the reference's card was."""

    def __init__(self, path, reference_seconds=None, snapshot_path=None, selector=None):
        super().__init__()
        self.path, self.reference_seconds, self.snapshot_path = path, reference_seconds, snapshot_path
        self.selector = selector
        self.state = {"seconds": 0.0, "epochs": [], "equal_time": None}
        if os.path.isfile(path):
            with open(path) as f:
                self.state = json.load(f)
        self._start = None

    def on_train_begin(self, logs=None):
        step = _optimizer_step(self.model)
        self.state["epochs"] = [e for e in self.state["epochs"] if e[0] <= step]  # after the checkpoint: again
        if self.state["epochs"]:
            self.state["seconds"] = self.state["epochs"][-1][1]
        equal = self.state.get("equal_time")
        if equal is not None and equal["step"] > step:
            self.state["equal_time"] = None
        self._start = time.perf_counter()

    def seconds(self):
        return self.state["seconds"] + (time.perf_counter() - self._start if self._start is not None else 0.0)

    def on_epoch_end(self, epoch, logs=None):
        step, seconds = _optimizer_step(self.model), self.seconds()
        if (self.reference_seconds is not None and self.state.get("equal_time") is None
                and seconds >= self.reference_seconds):
            best = self.selector is not None and self.selector.best_weights is not None
            weights = self.selector.best_weights if best else [w.numpy() for w in self.model.weights]
            with atomic_path(self.snapshot_path, suffix=".npz") as tmp:
                np.savez(tmp, *weights)
            self.state["equal_time"] = {"step": step, "seconds": round(seconds, 1),
                                        "selected_step": self.selector.best_step if best else step}
        self.state["epochs"].append([step, round(seconds, 1)])
        self.state["seconds"], self._start = seconds, time.perf_counter()
        write_text(self.path, json.dumps(self.state))


def _optimizer_step(model):
    optimizer = getattr(model, "g_optimizer", None) or getattr(model, "optimizer", None)
    return int(optimizer.iterations.numpy())


def run_dir(name, config, fresh=False):
    """`.zoo_runs/NAME/` for this config: kept from a killed run with the same config (more epochs extend it),
    else empty."""
    directory = os.path.join(RUNS_DIR, name)
    kept = os.path.join(directory, "config.json")
    if os.path.isdir(directory):
        def settings(c):
            return {k: v for k, v in c.items() if k != "epochs"}
        same = os.path.isfile(kept) and settings(json.load(open(kept))) == settings(config)
        if fresh or not same:
            print(f"{name}: {'--fresh' if fresh else 'the config changed'}: the kept run in {directory} is discarded",
                  flush=True)
            shutil.rmtree(directory)
    os.makedirs(directory, exist_ok=True)
    write_text(kept, json.dumps(config, indent=2))
    return directory


def train(name, config, fresh=False):
    keras.utils.set_random_seed(config.get("seed", 0))
    work = run_dir(name, config, fresh)
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
                            evaluate_at_start=False, state_dir=os.path.join(work, "select"))
        callbacks.append(selector)
    reference = config.get("compare")
    reference_seconds = _reference_metrics(reference)["train_seconds"] if reference else None
    clock = TrainingClock(os.path.join(work, "time.json"), reference_seconds, os.path.join(work, "equal_time.npz"),
                          selector)
    callbacks.append(clock)
    trainer = Trainer(model, verbose=1, callbacks=callbacks, checkpoint_dir=os.path.join(work, "checkpoints"),
                      max_to_keep=1)
    steps_per_epoch = config.get("steps_per_epoch")
    if steps_per_epoch:
        data = data.repeat()
    history = trainer.fit(data, epochs=config["epochs"], steps_per_epoch=steps_per_epoch, resume=True)
    final = {k: round(float(v[-1]), 4) for k, v in history.items() if k != "step" and v}
    kept_final = os.path.join(work, "final.json")  # a run resumed after its last epoch logs nothing new
    if final:
        write_text(kept_final, json.dumps(final))
    elif os.path.isfile(kept_final):
        final = json.load(open(kept_final))
    metrics = {"train_seconds": round(clock.state["seconds"], 1), "steps": _optimizer_step(model),
               "final": final, **extra}
    if config.get("steps_per_epoch"):
        metrics["steps_per_epoch"] = config["steps_per_epoch"]
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
        _with_sampling(metrics, model)
        if reference:
            metrics["equal_time"] = equal_time_comparison(model, config, clock.state.get("equal_time"),
                                                          os.path.join(work, "equal_time.npz"))
    if is_real(config):
        metrics["data_source"] = mnist_family.source_of(config["dataset"].split(":")[0])
    return model, metrics


def _reference_metrics(name):
    path = os.path.join(zoo.zoo_dir(), name, "metrics.json")
    if not os.path.isfile(path):
        sys.exit(f"train_zoo: the config compares with {name!r}, which has no {path}: train it first")
    with open(path) as f:
        return json.load(f)


def equal_time_comparison(model, config, equal_time, snapshot):
    """The weights at the reference's training time, measured on the test split beside the reference's card."""
    reference = _reference_metrics(config["compare"])
    result = {"reference": config["compare"], "reference_seconds": reference["train_seconds"],
              "reference_steps": reference["steps"], "reference_eval": reference["eval"]}
    if equal_time is None:
        result["note"] = "the run ended before the reference's training time"
        return result
    copy = _clean_copy(model)
    with np.load(snapshot) as saved:
        copy.set_weights([saved[f"arr_{i}"] for i in range(len(saved.files))])
    return {**result, **equal_time, "eval": evaluate_generator_checkpoint(copy, config)}


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


def sampling_cost(model, n=100, rounds=2, seed=0):
    """``{"steps", "seconds_per_100"}`` of a model that samples in steps (a DDIM's `sampling_steps`): `n` images
    at its own settings, after a warm-up that traces the sampler, the fastest of `rounds` (stalls only lengthen
    a round); None for a model that generates in one pass."""
    if "steps" not in model.sample_options:
        return None
    generate_images(model, min(n, 8), seed=seed)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        generate_images(model, n, seed=seed)
        best = min(best, time.perf_counter() - start)
    return {"steps": int(model.sampling_steps), "seconds_per_100": round(best * 100 / n, 2)}


def _with_sampling(metrics, model):
    """Add `sampling_cost(model)` to `metrics` as "sampling" when the model samples in steps."""
    sampling = sampling_cost(model)
    if sampling is not None:
        metrics["sampling"] = sampling
    return metrics


def _sampling_row(sampling):
    """The card's row for a model that samples in steps (`sampling_cost`), else nothing."""
    if not sampling:
        return []
    return [f"| sampling | {sampling['steps']} DDIM steps per image (`sampling_steps`: every sample measured here "
            f"took them; `sample(steps=...)` takes others), {sampling['seconds_per_100']:.1f} s per 100 images on "
            "this machine |"]


def recard(name):
    """Measure an existing generator checkpoint again (the model file and its checksum stay) and rewrite its
    metrics and card: for cards written before a change of the evaluation protocol."""
    config = zoo.zoo_config(name)
    model = load_pretrained(name)
    directory = os.path.join(zoo.zoo_dir(), name)
    with open(os.path.join(directory, "metrics.json")) as f:
        metrics = json.load(f)
    metrics["eval"] = evaluate_generator_checkpoint(model, config)
    _with_sampling(metrics, model)
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


def _comparison(c, note=None):
    """The card's section setting the checkpoint at the reference's training time beside the reference, and the
    config's `note` on it (``comparison_note``) after the verdict."""
    lines = [f"## Against `{c['reference']}` at the same training time", ""]
    if "eval" not in c:
        return lines + [f"Not measured: {c['note']} ({c['reference_seconds']:.0f} s).", ""]
    ref, own = c["reference_eval"], c["eval"]
    lines += [f"`{c['reference']}` trained {c['reference_seconds']:.0f} s ({c['reference_steps']} steps); this run "
              f"reached that time at step {c['step']} ({c['seconds']:.0f} s), where its best-selected weights so far "
              f"(step {c['selected_step']}, the same `KeepBest` rule) measure, on the same test split and evaluator:",
              "", "| | FID | KID | precision | recall |", "|---|---|---|---|---|"]
    for label, e in ((f"`{c['reference']}`", ref), (f"this model at {c['seconds']:.0f} s", own)):
        lines.append(f"| {label} | {e['fid']:.3f} | {e['kid']:.4f} | {e['precision']:.3f} | {e['recall']:.3f} |")
    parts = {"at least as good in": [], "worse in": []}
    for key, label, higher_is_better in (("fid", "FID", False), ("precision", "precision", True),
                                         ("recall", "recall", True)):
        good = own[key] >= ref[key] if higher_is_better else own[key] <= ref[key]
        parts["at least as good in" if good else "worse in"].append(f"{label} ({own[key]:.3f} vs {ref[key]:.3f})")
    verdict = "At the same training time this model is " + "; ".join(
        f"{part} {', '.join(items)}" for part, items in parts.items() if items) + "."
    return lines + ["", verdict, ""] + ([note, ""] if note else [])


def write_card(name, config, model, metrics, digest):
    size = os.path.getsize(os.path.join(zoo.zoo_dir(), name, "model.keras"))
    real = is_real(config)
    config = dict(config, _source=metrics.get("data_source"))
    lines = [f"# {name}", "", config["description"] + ".", "",
             "| | |", "|---|---|",
             f"| architecture | `{config['model']}` ({type(model).__name__}), {_weights_text(model)} |",
             f"| constructor arguments | `{json.dumps(config.get('model_args', {}))}` |",
             f"| data | {_data_line(config)} |",
             f"| training | {config['epochs']} epochs"
             + (f" of {config['repeat']} passes" if config.get("repeat", 1) > 1 else "")
             + (f" of {config['steps_per_epoch']} steps" if config.get("steps_per_epoch") else "")
             + f", {metrics['steps']} steps, batch {config['batch_size']}, seed "
             f"{config.get('seed', 0)} |",
             *([f"| checkpoint | the weights after step {metrics['selected']['step']}: the epoch whose "
                f"{config['select'].get('n', 1000)} samples had the lowest KID against "
                f"{config['select'].get('images', 2000)} train images (`KeepBest`; the test split is never "
                "looked at) |"] if "selected" in metrics else []),
             f"| training time | {metrics['train_seconds']:.0f} s on {os.cpu_count()} CPU cores ({platform.machine()}, "
             f"TensorFlow {tf.__version__}, oneDNN {os.environ.get('TF_ENABLE_ONEDNN_OPTS')}; wall clock, the "
             "epochs' best-checkpoint selection included) |",
             *_sampling_row(metrics.get("sampling")),
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
    if "equal_time" in metrics:
        lines += _comparison(metrics["equal_time"], config.get("comparison_note"))
    lines += ["Final training logs: `" + json.dumps(metrics["final"]) + "`", ""]
    if "sample" in metrics:
        lines += ["## Sample (temperature 0.6, prompt `def `)", "", "```", metrics["sample"], "```", ""]
    elif model.generates == "images":
        lines += ["## Samples", "", f"![samples](../../saved_models/{name}/samples.png)", ""]
    lines += ["## Use", "", "```python", "import keras_transfer_gan as ktg",
              f'model = ktg.load_pretrained("{name}")          # sha256-verified',
              "```", "", "## Reproduce", "", "```", f"python tools/train_zoo.py {name}", "```", ""]
    if real:
        lines += ["Limits: 32x32, trained on 2 CPU cores in minutes to hours; a transfer source and a yardstick "
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
    parser.add_argument("--fresh", action="store_true", help="discard a kept (killed) run and start over")
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
        model, metrics = train(name, config, fresh=args.fresh)
        target, digest = write_checkpoint(name, config, model, metrics)
        write_card(name, config, model, metrics, digest)
        shutil.rmtree(os.path.join(RUNS_DIR, name), ignore_errors=True)
        summary = metrics.get("eval") or {**metrics.get("holdout", {}), **{f"floor_{k}": v for k, v in
                                                                             metrics.get("floor", {}).items()}}
        print(f"{name}: {target} ({metrics['train_seconds']:.0f} s) {json.dumps(summary)}", flush=True)


if __name__ == "__main__":
    main()
