"""`ktg`: the command line.

    ktg train    --model dcgan --dataset digits --epochs 5 --out runs/dcgan
    ktg sample   --model runs/dcgan --n 64 --out grid.png
    ktg transfer --from dcgan_digits --dataset digits_m --limit 100 --freeze-d 2 --augment diffaugment --out runs/t
    ktg export   --model runs/t --format savedmodel --out serving/ [--name NAME] [--version N]
    ktg export   --model runs/t --format tflite --quantize int8 --out gen.tflite
    ktg evaluate --model runs/t --dataset digits_m --metrics fid,kid,is,pr --n 1000 --out eval.json
    ktg zoo list | ktg zoo info NAME

Flag names take dashes or underscores (``--freeze-d`` = ``--freeze_d``).

Bad input exits with status 2 and a one-line message, without a traceback.
Before TensorFlow is imported, oneDNN is switched on (``TF_ENABLE_ONEDNN_OPTS=1``)
unless the variable is already set: TensorFlow leaves it off on CPUs without
AVX512-VNNI/AMX, where it was measured 1.33-1.38x faster for a DCGAN step.
"""

import os
import sys

COMMANDS = ("train", "sample", "transfer", "export", "evaluate", "zoo")


def _set_tf_environment():
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")


_set_tf_environment()

from absl import app, flags, logging  # noqa: E402

FLAGS = flags.FLAGS

flags.DEFINE_string("model", None, "train: a registered model name (see `list_models`); "
                    "sample: a .keras file or a `ktg train` output directory.")
flags.DEFINE_string("dataset", "digits", "Dataset spec: fashion_mnist, mnist, mnist_m (real, with train and "
                    "test splits), fashion_mnist:3,9 (class filter), digits, faces, digits_m, digits:0-4, "
                    "tfds:NAME[:SPLIT], a folder of images, or a .npy/.npz file; for text "
                    "models a corpus: pydocs, pylicense, a .txt file or tfds:NAME.")
flags.DEFINE_string("out", None, "train: output directory; sample: output PNG path.")
flags.DEFINE_integer("epochs", 5, "Training epochs (total, also when resuming).")
flags.DEFINE_integer("batch_size", 64, "Global batch size.")
flags.DEFINE_integer("image_size", 32, "Image height and width (16, 32 or 64).")
flags.DEFINE_integer("channels", None, "1 or 3; default: the dataset's own.")
flags.DEFINE_integer("limit", None, "Use a fixed, seeded subset of this many images.")
flags.DEFINE_integer("seed", 0, "Seed for data order, subset, initial weights and noise.")
flags.DEFINE_float("lr", None, "Learning rate (default: the model's).")
flags.DEFINE_float("beta1", None, "Adam beta_1 (default: the model's).")
flags.DEFINE_string("model_args", "", "Extra constructor arguments, e.g. 'g_filters=32,latent_dim=64'.")
flags.DEFINE_bool("tiny", False, "Start from the architecture's tiny test configuration.")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker"],
                  "Distribution strategy (multi_worker reads TF_CONFIG).")
flags.DEFINE_enum("loop", "trainer", ["trainer", "fit"], "Custom-loop Trainer (checkpoints, resume) or keras fit.")
flags.DEFINE_bool("resume", False, "Continue from the latest checkpoint in --out.")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16", "mixed_float16"],
                  "train: Keras dtype policy; mixed_float16 (GPU) adds dynamic loss scaling.")
flags.DEFINE_enum("jit_compile", "auto", ["auto", "on", "off"],
                  "train: XLA for the step; auto is Keras' choice (off on CPU-only machines and when distributed).")
flags.DEFINE_integer("steps_per_execution", 1, "train --loop=fit: steps run per call into the graph.")
flags.DEFINE_integer("checkpoint_every", None, "Also checkpoint every N steps.")
flags.DEFINE_enum("on_nonfinite", "stop", ["stop", "skip", "rollback"],
                  "A NaN/Inf loss: stop (naming the step and the last good checkpoint), skip the batch, or "
                  "roll back to the last checkpoint.")
flags.DEFINE_bool("deterministic", False, "Turn on TensorFlow op determinism: with --seed, two runs on one "
                  "replica give identical weights.")
flags.DEFINE_bool("unsafe", False, "Load .keras files with safe_mode=False (allows arbitrary code in lambdas: "
                  "only for files you trust).")
flags.DEFINE_integer("n", 64, "sample: number of images.")
flags.DEFINE_string("data_dir", None, "TFDS data directory.")
flags.DEFINE_integer("verbose", 1, "0: quiet; 1: progress bar.")
flags.DEFINE_integer("seq_len", 64, "Text models: characters per training window.")
flags.DEFINE_integer("vocab_size", None, "Text models: keep the most frequent characters (with the unknown token).")
flags.DEFINE_string("prompt", "The ", "Text models: the text to continue.")
flags.DEFINE_integer("length", 400, "Text models: characters to generate.")
flags.DEFINE_float("temperature", 0.8, "Text models: sampling temperature (0: most likely).")
flags.DEFINE_string("from", None, "transfer: the source: a zoo name, a .keras / .h5 file, a `ktg train` "
                    "directory or an exported SavedModel.")
flags.DEFINE_enum("recipe", "trgan", ["trgan", "tgan", "ctgan", "classifier", "augment"],
                  "transfer: trgan (fine-tune G and D from a source GAN), tgan (generator on the source's "
                  "frozen features), ctgan (source classifier pseudo-labels, conditional GAN trains), "
                  "classifier (new head, frozen then fine-tuned), augment (classifier on real + generated).")
flags.DEFINE_integer("freeze_d", 0, "transfer: freeze the discriminator's first K blocks (Freeze-D).")
flags.DEFINE_enum("augment", "none", ["none", "diffaugment", "ada"], "transfer: augmentation on D's input.")
flags.DEFINE_string("l2_sp", None, "transfer: 'alpha,beta' of L2-SP towards the source weights.")
flags.DEFINE_float("cdc", None, "transfer: weight of CDC (cross-domain distance consistency) on G's loss, e.g. 100.")
flags.DEFINE_float("ewc", None, "transfer: weight of EWC (Fisher-weighted pull to the source) on G's weights, e.g. 1.")
flags.DEFINE_enum("scale_shift", "none", ["none", "bn", "adafm"], "transfer: train only G's normalisation "
                  "scale/shift and output layer (bn), plus per-channel kernel modulation (adafm).")
flags.DEFINE_bool("keep_best", False, "transfer: end with the weights of the epoch with the lowest KID against "
                  "held-out images of the train split (outside --limit's subset); see --held_out, --patience.")
flags.DEFINE_integer("held_out", 500, "transfer --keep_best: held-out images for the KID (and the extractor is "
                     "the dataset's zoo evaluator, --extractor).")
flags.DEFINE_integer("patience", None, "transfer --keep_best: stop after this many epochs without improvement.")
flags.DEFINE_integer("finetune_epochs", 1, "transfer --recipe classifier: epochs with everything unfrozen.")
flags.DEFINE_integer("per_class", 10, "transfer --recipe augment: generated images per class.")
flags.DEFINE_enum("format", "savedmodel", ["savedmodel", "tflite"], "export: output format.")
flags.DEFINE_enum("quantize", "none", ["none", "float16", "dynamic", "int8"], "export --format tflite: quantization.")
flags.DEFINE_string("name", None, "export --format savedmodel: model name under --out (default: from --model).")
flags.DEFINE_integer("version", None, "export --format savedmodel: version (default: the next one).")
flags.DEFINE_bool("overwrite", False, "export: replace an existing version.")
flags.DEFINE_string("signature", None, "export --format tflite: signature to convert (default: the model's main one).")
flags.DEFINE_string("metrics", "fid,kid,is,pr", "evaluate: comma-separated metrics (fid, kid, is, pr).")
flags.DEFINE_string("extractor", "auto", "evaluate: feature extractor: auto (the zoo evaluator of the dataset's "
                    "domain: fashion_classifier, mnist_classifier, mnist_m_classifier, else digits_classifier), a "
                    "zoo classifier name, inception (InceptionV3, downloads ImageNet weights), or a classifier file.")
flags.DEFINE_string("split", "auto", "evaluate: split of the reference images; auto: test where the dataset has "
                    "one (fashion_mnist, mnist, mnist_m), else train.")
flags.DEFINE_float("min_confidence", 0.0, "transfer --recipe ctgan: drop images the classifier is less sure of.")


class UsageError(ValueError):
    """Bad command-line input: reported in one line with exit status 2."""


def _parse_model_args(text):
    import ast

    args = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        if "=" not in item:
            raise UsageError(f"--model_args: expected key=value, got {item!r}")
        key, value = (s.strip() for s in item.split("=", 1))
        try:
            args[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            args[key] = value
    return args


def _positive(name, value):
    if value is not None and value <= 0:
        raise UsageError(f"--{name} must be positive, got {value}")


def cmd_train():
    import json
    import time

    import keras
    import numpy as np
    import tensorflow as tf

    from keras_transfer_gan.data import Vocabulary, load_dataset, load_text, text_dataset
    from keras_transfer_gan.registry import create_model, get_entry
    from keras_transfer_gan.training import (
        SampleGrid,
        TensorBoardLogger,
        Trainer,
        compile_for_training,
        get_strategy,
    )

    if not FLAGS.model:
        raise UsageError("--model is required (a registered model name)")
    if not FLAGS.out:
        raise UsageError("--out is required (an output directory)")
    for name in ("epochs", "batch_size", "image_size", "limit", "checkpoint_every", "steps_per_execution"):
        _positive(name, getattr(FLAGS, name))
    out = FLAGS.out
    keras.utils.set_random_seed(FLAGS.seed)
    if FLAGS.deterministic:
        tf.config.experimental.enable_op_determinism()
    entry = get_entry(FLAGS.model)
    strategy = get_strategy(FLAGS.strategy)
    overrides = dict(seed=FLAGS.seed)
    conditions = None
    if entry.inputs == "text":
        text = load_text(FLAGS.dataset, data_dir=FLAGS.data_dir)
        vocabulary = Vocabulary.from_text(text, max_size=FLAGS.vocab_size)
        dataset = text_dataset(text, vocabulary, seq_len=FLAGS.seq_len, batch_size=FLAGS.batch_size, seed=FLAGS.seed)
        overrides["vocabulary"] = vocabulary
    else:
        labelled = entry.inputs == "labelled_images"
        dataset = load_dataset(
            FLAGS.dataset, image_size=FLAGS.image_size, channels=FLAGS.channels,
            batch_size=FLAGS.batch_size, limit=FLAGS.limit, seed=FLAGS.seed, labels=labelled,
            drop_remainder=True, data_dir=FLAGS.data_dir,
        )
        image_spec = dataset.element_spec[0] if labelled else dataset.element_spec
        overrides.update(image_size=FLAGS.image_size, channels=int(image_spec.shape[-1]))
        if labelled:
            overrides["num_classes"] = int(dataset.reduce(tf.constant(1), lambda m, b: tf.maximum(
                m, tf.reduce_max(b[1]) + 1)))
        if entry.inputs == "conditioning_images":
            conditions = np.concatenate([b.numpy() for b in dataset.take(-(-64 // FLAGS.batch_size))])[:64]
    overrides.update(_parse_model_args(FLAGS.model_args))
    keras.mixed_precision.set_global_policy(FLAGS.precision)  # before the layers are built
    jit_compile = {"auto": "auto", "on": True, "off": False}[FLAGS.jit_compile]
    with strategy.scope():
        model = create_model(
            FLAGS.model, tiny=FLAGS.tiny, replicas=strategy.num_replicas_in_sync, **overrides
        )
        compile_for_training(model, strategy, learning_rate=FLAGS.lr, beta_1=FLAGS.beta1,
                             jit_compile=jit_compile, steps_per_execution=FLAGS.steps_per_execution)
    os.makedirs(out, exist_ok=True)
    callbacks = [TensorBoardLogger(os.path.join(out, "tensorboard"), conditions=conditions)]
    if entry.inputs != "text":
        callbacks.append(SampleGrid(out, n=64, seed=FLAGS.seed, conditions=conditions))
    start = time.perf_counter()
    if FLAGS.loop == "fit":
        if FLAGS.resume:
            raise UsageError("--resume needs --loop=trainer (checkpoints are the Trainer's)")
        history = model.fit(dataset, epochs=FLAGS.epochs, callbacks=callbacks, verbose=FLAGS.verbose).history
    else:
        trainer = Trainer(
            model, strategy, checkpoint_dir=os.path.join(out, "checkpoints"),
            checkpoint_every=FLAGS.checkpoint_every, callbacks=callbacks, verbose=FLAGS.verbose,
            on_nonfinite=FLAGS.on_nonfinite,
        )
        history = trainer.fit(dataset, epochs=FLAGS.epochs, resume=FLAGS.resume)
    seconds = time.perf_counter() - start
    model_path = _save_model(model, out)
    metrics = {
        "model": FLAGS.model, "dataset": FLAGS.dataset, "epochs": FLAGS.epochs,
        "batch_size": FLAGS.batch_size, "limit": FLAGS.limit, "seed": FLAGS.seed,
        "strategy": FLAGS.strategy, "loop": FLAGS.loop, "precision": FLAGS.precision,
        "jit_compile": bool(model.jit_compile), "seconds": round(seconds, 2),
        "config": model.get_config(), "history": history,
    }
    write_atomic(os.path.join(out, "metrics.json"), json.dumps(metrics, indent=2, default=str))
    print(f"model:   {model_path}")
    if entry.inputs == "text":
        write_atomic(os.path.join(out, "samples.txt"), model.generate(
            FLAGS.prompt, length=FLAGS.length, temperature=FLAGS.temperature, seed=FLAGS.seed))
        print(f"samples: {os.path.join(out, 'samples.txt')}")
    else:
        print(f"samples: {os.path.join(out, 'samples.png')}")
    print(f"metrics: {os.path.join(out, 'metrics.json')}")
    return 0


def cmd_sample():
    from keras_transfer_gan.data import load_images
    from keras_transfer_gan.utils.images import save_grid

    if not FLAGS.model:
        raise UsageError("--model is required (a .keras file or a training directory)")
    if not FLAGS.out:
        raise UsageError("--out is required (a PNG path, or a text file for text models)")
    _positive("n", FLAGS.n)
    model = _load_source(FLAGS.model)
    if hasattr(model, "vocabulary"):
        text = model.generate(FLAGS.prompt, length=FLAGS.length, temperature=FLAGS.temperature, seed=FLAGS.seed)
        write_atomic(FLAGS.out, text)
        print(f"samples: {FLAGS.out}")
        return 0
    if not hasattr(model, "generate"):
        raise UsageError(f"--model: {type(model).__name__} cannot generate images")
    if hasattr(model, "backbone"):  # generates from conditioning images
        images, _ = load_images(FLAGS.dataset, image_size=model.image_size, channels=model.channels,
                                limit=FLAGS.n, seed=FLAGS.seed, data_dir=FLAGS.data_dir)
        samples = model.generate(images, seed=FLAGS.seed)
    else:
        samples = model.generate(FLAGS.n, seed=FLAGS.seed)
    path = save_grid(samples, FLAGS.out)
    print(f"samples: {path}")
    return 0


def _load_source(source):
    """A zoo name, a model file, a `ktg train` directory or a SavedModel export."""
    from keras_transfer_gan.transfer import load_pretrained

    if os.path.isdir(source) and os.path.isfile(os.path.join(source, "model.keras")):
        source = os.path.join(source, "model.keras")
    return load_pretrained(source, safe_mode=not FLAGS.unsafe)


def write_atomic(path, text):
    """Write text to `path` through a temporary sibling and a rename: never half-written."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def _save_model(model, out):
    path = os.path.join(out, "model.keras")
    tmp = os.path.join(out, f".model.tmp-{os.getpid()}.keras")
    model.save(tmp)
    os.replace(tmp, path)
    return path


def cmd_transfer():
    import json
    import time

    import keras
    import numpy as np

    from keras_transfer_gan.data import few_shot_split, load_dataset, load_images
    from keras_transfer_gan.metrics import extractor_for
    from keras_transfer_gan.models import ConditionalGAN, GAN
    from keras_transfer_gan.training import KeepBest, SampleGrid
    from keras_transfer_gan.transfer import recipes
    from keras_transfer_gan.utils.images import save_grid

    source_name = FLAGS["from"].value
    if not source_name:
        raise UsageError("--from is required (a zoo name, a model file or directory)")
    if not FLAGS.out:
        raise UsageError("--out is required (an output directory)")
    for name in ("epochs", "batch_size", "image_size", "limit", "per_class"):
        _positive(name, getattr(FLAGS, name))
    if FLAGS.freeze_d < 0 or FLAGS.finetune_epochs < 0:
        raise UsageError("--freeze_d and --finetune_epochs must be >= 0")
    l2_sp = None
    if FLAGS.l2_sp:
        try:
            l2_sp = tuple(float(v) for v in FLAGS.l2_sp.split(","))
            assert len(l2_sp) == 2
        except (ValueError, AssertionError):
            raise UsageError(f"--l2_sp: expected 'alpha,beta', got {FLAGS.l2_sp!r}") from None
    keras.utils.set_random_seed(FLAGS.seed)
    source = _load_source(source_name)
    recipe = FLAGS.recipe
    size = FLAGS.image_size if FLAGS["image_size"].present else getattr(source, "image_size", FLAGS.image_size)
    conditional = isinstance(source, ConditionalGAN)
    channels = FLAGS.channels
    if channels is None and recipe in ("classifier", "augment"):
        channels = getattr(source, "channels", None)  # the source reads (or writes) these
    common = dict(image_size=size, channels=channels, batch_size=FLAGS.batch_size, limit=FLAGS.limit,
                  seed=FLAGS.seed, data_dir=FLAGS.data_dir, drop_remainder=True)
    os.makedirs(FLAGS.out, exist_ok=True)
    start = time.perf_counter()
    callbacks = [SampleGrid(FLAGS.out, n=64, seed=FLAGS.seed)]
    if recipe == "trgan":
        if not isinstance(source, GAN):
            raise UsageError(f"--recipe trgan needs a GAN source, got {type(source).__name__}")
        data = load_dataset(FLAGS.dataset, labels=conditional, **common)
        spec = data.element_spec[0] if conditional else data.element_spec
        overrides = dict(channels=int(spec.shape[-1]))
        if FLAGS["image_size"].present:
            overrides["image_size"] = size
        keep_best = None
        if FLAGS.keep_best:
            _positive("held_out", FLAGS.held_out)
            _positive("patience", FLAGS.patience)
            if not FLAGS.limit:
                raise UsageError("--keep_best needs --limit: the held-out images are the rest of the train split")
            _, held_out = few_shot_split(FLAGS.dataset, FLAGS.limit, FLAGS.held_out, size,
                                         overrides["channels"], FLAGS.seed, data_dir=FLAGS.data_dir)
            if len(held_out) < 4:
                raise UsageError(f"--keep_best: only {len(held_out)} images of {FLAGS.dataset!r} are outside the "
                                 "training subset (lower --limit)")
            extractor = extractor_for(FLAGS.dataset) if FLAGS.extractor == "auto" else FLAGS.extractor
            keep_best = KeepBest(held_out, extractor, patience=FLAGS.patience, seed=FLAGS.seed)
        for name in ("cdc", "ewc"):
            if getattr(FLAGS, name) is not None and getattr(FLAGS, name) < 0:
                raise UsageError(f"--{name} must be >= 0, got {getattr(FLAGS, name)}")
        result = recipes.trgan(source, data, epochs=FLAGS.epochs, freeze_d=FLAGS.freeze_d, augment=FLAGS.augment,
                               l2_sp=l2_sp, cdc=FLAGS.cdc, ewc=FLAGS.ewc, scale_shift=FLAGS.scale_shift,
                               keep_best=keep_best, learning_rate=FLAGS.lr, callbacks=callbacks,
                               verbose=FLAGS.verbose, report_to=print, **overrides)
    elif recipe == "tgan":
        data = load_dataset(FLAGS.dataset, **common)
        conditions = np.concatenate([b.numpy() for b in data.take(-(-64 // FLAGS.batch_size))])[:64]
        callbacks = [SampleGrid(FLAGS.out, n=64, seed=FLAGS.seed, conditions=conditions)]
        result = recipes.tgan(source, data, epochs=FLAGS.epochs, learning_rate=FLAGS.lr, callbacks=callbacks,
                              verbose=FLAGS.verbose, report_to=print, **_parse_model_args(FLAGS.model_args))
    elif recipe == "ctgan":
        images, _ = load_images(FLAGS.dataset, image_size=size, channels=channels, limit=FLAGS.limit,
                                seed=FLAGS.seed, data_dir=FLAGS.data_dir)
        result = recipes.ctgan(source, images, epochs=FLAGS.epochs, batch_size=FLAGS.batch_size,
                               min_confidence=FLAGS.min_confidence, model_args=_parse_model_args(FLAGS.model_args),
                               learning_rate=FLAGS.lr, seed=FLAGS.seed, callbacks=callbacks,
                               verbose=FLAGS.verbose, report_to=print)
    elif recipe == "classifier":
        data = load_dataset(FLAGS.dataset, labels=True, **common)
        classes = int(max(int(np.max(b[1].numpy())) for b in data) + 1)
        result = recipes.finetune_classifier(
            source, data, num_classes=max(classes, 2), head_epochs=FLAGS.epochs,
            finetune_epochs=FLAGS.finetune_epochs, learning_rate=FLAGS.lr or 1e-3, validation_data=data,
            verbose=FLAGS.verbose, report_to=print, **({"channels": channels} if channels else {}))
    else:  # augment
        images, labels = load_images(FLAGS.dataset, image_size=size, channels=channels, limit=FLAGS.limit,
                                     seed=FLAGS.seed, labels=True, data_dir=FLAGS.data_dir)
        data = load_dataset(FLAGS.dataset, labels=True, **{**common, "limit": None, "drop_remainder": False})
        result = recipes.augmented_classifier(source, images, labels, per_class=FLAGS.per_class,
                                              epochs=FLAGS.epochs, batch_size=FLAGS.batch_size,
                                              validation_data=data, seed=FLAGS.seed, verbose=FLAGS.verbose)
    seconds = time.perf_counter() - start
    model_path = _save_model(result.model, FLAGS.out)
    if recipe in ("classifier", "augment"):
        print(f"accuracy: {json.dumps(result.extra)}")
    elif recipe != "tgan":
        save_grid(result.model.generate(64, seed=FLAGS.seed), os.path.join(FLAGS.out, "samples.png"))
    summary = {
        "recipe": recipe, "from": source_name, "dataset": FLAGS.dataset, "limit": FLAGS.limit,
        "epochs": FLAGS.epochs, "freeze_d": FLAGS.freeze_d, "augment": FLAGS.augment, "seed": FLAGS.seed,
        "cdc": FLAGS.cdc, "ewc": FLAGS.ewc, "scale_shift": FLAGS.scale_shift, "keep_best": FLAGS.keep_best,
        "seconds": round(seconds, 2), "history": result.history, "extra": result.extra,
        "report": result.report.as_dict() if result.report is not None else None,
        "freeze": result.freeze.parts if result.freeze is not None else None,
    }
    write_atomic(os.path.join(FLAGS.out, "metrics.json"), json.dumps(summary, indent=2, default=str))
    print(f"model:   {model_path}")
    if recipe not in ("classifier", "augment"):
        print(f"samples: {os.path.join(FLAGS.out, 'samples.png')}")
    print(f"metrics: {os.path.join(FLAGS.out, 'metrics.json')}")
    return 0


def cmd_export():
    import json

    from keras_transfer_gan.data import load_images
    from keras_transfer_gan.export import export_saved_model, export_tflite, write_models_config

    if not FLAGS.model:
        raise UsageError("--model is required (a model file, a `ktg train` directory or a zoo name)")
    if not FLAGS.out:
        raise UsageError("--out is required (savedmodel: a base directory; tflite: a .tflite path)")
    _positive("batch_size", FLAGS["batch_size"].value if FLAGS["batch_size"].present else None)
    _positive("version", FLAGS.version)
    model = _load_source(FLAGS.model)
    if FLAGS.format == "savedmodel":
        name = FLAGS.name or os.path.basename(os.path.normpath(FLAGS.model)).split(".")[0]
        path = export_saved_model(model, FLAGS.out, name, version=FLAGS.version, overwrite=FLAGS.overwrite)
        config = write_models_config(FLAGS.out)
        print(f"savedmodel: {path}")
        print(f"config:     {config}")
        return 0
    if not FLAGS.out.endswith(".tflite"):
        raise UsageError(f"--out must end with .tflite for --format tflite, got {FLAGS.out!r}")
    images = None
    if FLAGS.quantize == "int8" and hasattr(model, "image_size") and not hasattr(model, "latent_dim") \
            or (FLAGS.quantize == "int8" and FLAGS.signature in ("encode", "reconstruct")):
        images, _ = load_images(FLAGS.dataset, image_size=model.image_size, channels=model.channels, limit=256,
                                seed=FLAGS.seed, data_dir=FLAGS.data_dir)
    batch = FLAGS.batch_size if FLAGS["batch_size"].present else 1
    report = export_tflite(model, FLAGS.out, FLAGS.quantize, representative_data=images, eval_data=images,
                           signature=FLAGS.signature, batch_size=batch, seq_len=FLAGS.seq_len)
    print(f"tflite: {report}")
    write_atomic(FLAGS.out + ".json", json.dumps(report.as_dict(), indent=2))
    return 0


def cmd_evaluate():
    import json

    from keras_transfer_gan.data import load_images, reference_split
    from keras_transfer_gan.metrics import METRICS, evaluate_samples, extractor_for, generate_images

    if not FLAGS.model:
        raise UsageError("--model is required (a model file, a `ktg train` directory or a zoo name)")
    _positive("n", FLAGS.n)
    metrics = tuple(m.strip() for m in FLAGS.metrics.split(",") if m.strip())
    unknown = [m for m in metrics if m not in METRICS]
    if not metrics or unknown:
        raise UsageError(f"--metrics: unknown metric {unknown[0] if unknown else ''!r} (choose from {', '.join(METRICS)})")
    model = _load_source(FLAGS.model)
    if not hasattr(model, "image_size") or not hasattr(model, "generate"):
        raise UsageError(f"--model: {type(model).__name__} does not generate images")
    split = reference_split(FLAGS.dataset) if FLAGS.split == "auto" else FLAGS.split
    extractor = extractor_for(FLAGS.dataset) if FLAGS.extractor == "auto" else FLAGS.extractor
    real, _ = load_images(FLAGS.dataset, image_size=model.image_size, channels=model.channels,
                          limit=FLAGS.limit or FLAGS.n, seed=FLAGS.seed, data_dir=FLAGS.data_dir, split=split)
    fake = generate_images(model, FLAGS.n, seed=FLAGS.seed, conditions=real)
    key = f"{FLAGS.dataset}-{split}-{model.image_size}x{model.channels}-seed{FLAGS.seed}"
    result = evaluate_samples(real, fake, extractor=extractor, metrics=metrics, reference_key=key,
                              seed=FLAGS.seed)
    result.update(model=FLAGS.model, dataset=FLAGS.dataset, split=split)
    rows = [(k, f"{v:.4f}" if isinstance(v, float) else str(v)) for k, v in result.items()]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    out = FLAGS.out or "evaluation.json"
    write_atomic(out, json.dumps(result, indent=2))
    print(f"json: {out}")
    return 0


def cmd_zoo(args):
    from keras_transfer_gan import zoo

    if not args or args[0] not in ("list", "info") or (args[0] == "info") != (len(args) == 2) or len(args) > 2:
        raise UsageError("usage: ktg zoo list | ktg zoo info NAME")
    if args[0] == "list":
        rows = [("name", "model", "data", "MB", "description")] + zoo.zoo_table()
        widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
        for row in rows:
            print("  ".join(f"{str(v):<{w}}" for v, w in zip(row, widths)).rstrip())
        return 0
    print(zoo.zoo_card(args[1]))
    return 0


def main(argv):
    logging.set_verbosity(logging.WARNING)
    if len(argv) < 2 or argv[1] not in COMMANDS:
        got = argv[1] if len(argv) > 1 else "nothing"
        print(f"ktg: error: expected a command ({', '.join(COMMANDS)}), got {got}", file=sys.stderr)
        return 2
    if len(argv) > 2 and argv[1] != "zoo":
        print(f"ktg: error: unexpected arguments {' '.join(argv[2:])}", file=sys.stderr)
        return 2
    try:
        if argv[1] == "zoo":
            return cmd_zoo(argv[2:])
        commands = {"train": cmd_train, "sample": cmd_sample, "transfer": cmd_transfer, "export": cmd_export,
                    "evaluate": cmd_evaluate}
        return commands[argv[1]]()
    except ValueError as exc:
        print(f"ktg {argv[1]}: error: {one_line(exc)}", file=sys.stderr)
        return 2


def one_line(exc):
    """An error's message on one line: the first line, or the last when the first only introduces a trace."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
    return lines[-1] if lines[0].endswith(":") and len(lines) > 1 else lines[0]


def normalize_argv(argv):
    """``--freeze-d 2`` -> ``--freeze_d 2``: flag names may use dashes."""
    out = []
    for arg in argv:
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            arg = "--" + name.replace("-", "_") + eq + value
        out.append(arg)
    return out


def _parse_flags(argv):
    try:
        return FLAGS(normalize_argv(argv))
    except flags.Error as exc:
        print(f"ktg: error: {exc}".splitlines()[0], file=sys.stderr)
        sys.exit(2)


def run():
    """Console-script entry point."""
    app.run(main, flags_parser=_parse_flags)


if __name__ == "__main__":
    run()
