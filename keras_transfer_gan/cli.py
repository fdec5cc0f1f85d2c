"""`ktg`: the command line, one thin command per library run (`keras_transfer_gan.runs`).

    ktg train    --model dcgan --dataset digits --epochs 5 --out runs/dcgan
    ktg sample   --model runs/dcgan --n 64 --out grid.png
    ktg transfer --from dcgan_digits --dataset digits_m --limit 100 --freeze-d 2 --augment diffaugment --out runs/t
    ktg export   --model runs/t --format savedmodel --out serving/ [--name NAME] [--version N]
    ktg export   --model runs/t --format tflite --quantize int8 --out gen.tflite
    ktg evaluate --model runs/t --dataset digits_m --metrics fid,kid,is,pr --n 1000 --out eval.json
    ktg study    --from dcgan_fashion_base --dataset my_images/ --sizes 10,25 --reference 200 --out study/
    ktg zoo list | ktg zoo info NAME

Each command takes only its own flags (`COMMAND_FLAGS`); another command's flag is a one-line error.
Flag names take dashes or underscores (``--freeze-d`` = ``--freeze_d``).

Bad input exits with status 2 and a one-line message, without a traceback.
Before TensorFlow is imported, oneDNN is switched on (``TF_ENABLE_ONEDNN_OPTS=1``)
unless the variable is already set: TensorFlow leaves it off on CPUs without
AVX512-VNNI/AMX, where it was measured 1.33-1.38x faster for a DCGAN step.
"""

import ast
import os
import sys

COMMANDS = ("train", "sample", "transfer", "export", "evaluate", "study", "zoo")


def _set_tf_environment():
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")


def import_tensorflow(quiet=True):
    """Import TensorFlow (and look for devices) with its C++ start-up lines discarded when `quiet`.

    TensorFlow 2.21 writes them straight to file descriptor 2 whatever TF_CPP_MIN_LOG_LEVEL says
    (absl's "All log messages before absl::InitializeLog()", the oneDNN notice, "Could not find cuda
    drivers", cuInit errors), so fd 2 points at /dev/null meanwhile. Python errors still reach stderr:
    they are printed after it is restored. Listing the physical devices does not initialise TensorFlow's
    context, so a multi-worker strategy can still be set up afterwards.
    """
    if not quiet:
        import tensorflow as tf

        return tf
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
    return tf


_set_tf_environment()

from absl import app, flags, logging  # noqa: E402

FLAGS = flags.FLAGS
#: Every task's option names (the flags `ktg transfer --recipe NAME` passes to the task when given).
TASK_OPTIONS = ()


def _define_task_flags():
    """One flag per task option (`tasks.TaskOptions` fields), unless a flag of that name exists (shared flags
    such as --steps keep their definition). The defaults are None: an option not given keeps its task's
    default; the values are checked by the task's options dataclass."""
    global TASK_OPTIONS
    from keras_transfer_gan.tasks import get_task, list_tasks
    from keras_transfer_gan.tasks.options import kind_of

    names = {}
    for name in list_tasks():
        for field in get_task(name).options_class.fields():
            names.setdefault(field.name, []).append(name)
            if field.name in FLAGS:
                continue
            meta, kind = field.metadata, kind_of(field)
            text = f"transfer --recipe {'/'.join(names[field.name])}: {meta['help']} (default: {field.default})"
            if meta.get("choices") and kind is str:
                flags.DEFINE_enum(field.name, None, list(meta["choices"]), text)
            else:
                define = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer, float: flags.DEFINE_float}.get(
                    kind, flags.DEFINE_string)
                define(field.name, None, text)
    TASK_OPTIONS = tuple(names)


def _augments():
    from keras_transfer_gan.tasks.trgan import AUGMENTS  # the task's option choices, read without TensorFlow

    return AUGMENTS


def _recipe_help():
    from keras_transfer_gan.tasks import get_task, list_tasks

    return "transfer: the task: auto (the first that accepts the source: " + ", ".join(list_tasks()) + "), " + \
        "; ".join(f"{n} ({get_task(n).description})" for n in list_tasks()) + \
        ". `ktg transfer --recipe NAME --help` lists a task's options."



flags.DEFINE_string("model", None, "train: a registered model name (see `list_models`); sample, export, evaluate: "
                    "a zoo name, a .keras/.h5 file, a `ktg train` directory or an exported SavedModel.")
flags.DEFINE_string("dataset", "digits", "Dataset spec: fashion_mnist, mnist, mnist_m, fashion_sketch (real, with train and "
                    "test splits), fashion_mnist:3,9 (class filter), digits, faces, digits_m, digits:0-4, "
                    "tfds:NAME[:SPLIT], a folder of images, or a .npy/.npz file; for text "
                    "models a corpus: pydocs, pylicense, a .txt file or tfds:NAME.")
flags.DEFINE_string("out", None, "Output: a directory (train, transfer, export savedmodel), a PNG or text file "
                    "(sample), a .tflite path, or a JSON file (evaluate).")
flags.DEFINE_integer("epochs", 5, "Training epochs (total, also when resuming).")
flags.DEFINE_integer("steps", None, "train, transfer: train this many steps (the data repeats), in blocks of "
                     "--sample_every; instead of --epochs. sample: a diffusion model's sampling steps (default: "
                     "its sampling_steps).")
flags.DEFINE_float("eta", None, "sample: a diffusion model's DDIM eta (0: deterministic, the default; 1: "
                   "DDPM-like noise).")
flags.DEFINE_integer("sample_every", None, "train, transfer --steps: steps between sample grids and checkpoints "
                     "(default: 100, or --steps if fewer).")
flags.DEFINE_enum("augment", None, list(_augments()), "train (GANs), transfer --recipe trgan: "
                  "augmentation on D's input (default: none).")
flags.DEFINE_integer("batch_size", 64, "Global batch size (export --format tflite: the fixed batch, default 1).")
flags.DEFINE_integer("image_size", 32, "Image height and width (16, 32, 64 or 128).")
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
flags.DEFINE_enum("precision", "auto", ["auto", "float32", "mixed_bfloat16", "mixed_float16"],
                  "train/transfer: Keras dtype policy; auto: mixed_bfloat16 where the CPU (AVX512_BF16, AMX) or "
                  "GPU/TPU has bfloat16 arithmetic, else float32; mixed_float16 (GPU) adds dynamic loss scaling.")
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
flags.DEFINE_integer("n", 64, "sample: number of images; evaluate: number of samples.")
flags.DEFINE_string("data_dir", None, "TFDS data directory.")
flags.DEFINE_integer("verbose", 1, "0: quiet; 1: progress bar; 2: also TensorFlow's C++ start-up lines (else "
                     "discarded; KTG_TF_LOGS=1 shows them too).")
flags.DEFINE_integer("seq_len", 64, "Text models: characters per training window (export: the TFLite window).")
flags.DEFINE_integer("vocab_size", None, "Text models: keep the most frequent characters (with the unknown token).")
flags.DEFINE_string("prompt", "The ", "Text models: the text to continue.")
flags.DEFINE_integer("length", 400, "Text models: characters to generate.")
flags.DEFINE_float("temperature", 0.8, "Text models: sampling temperature (0: most likely).")
flags.DEFINE_float("truncation", None, "sample: the truncation psi of a model that has one (StyleGAN2: w pulled "
                   "towards its average; 1: none, 0.7 typical).")
flags.DEFINE_string("from", None, "transfer: the source: a zoo name, a .keras / .h5 file, a `ktg train` "
                    "directory or an exported SavedModel.")
flags.DEFINE_string("recipe", "auto", _recipe_help())
flags.DEFINE_string("sizes", "10,25", "study: few-shot sizes N (comma list).")
flags.DEFINE_string("seeds", "0", "study: seeds of the few-shot draws (comma list).")
flags.DEFINE_string("methods", None, "study: arms (comma list; default: keras_transfer_gan.study.METHODS), e.g. "
                    "scratch+diffaugment,trgan+freeze_d+diffaugment; the scratch + DiffAugment baseline always runs.")
flags.DEFINE_integer("eval_every", None, "study: steps between measurements (default 100).")
flags.DEFINE_string("reference", "test", "study: what samples are measured against: test (the data's test split) "
                    "or a number K of train images outside the few-shot subset and the held-out ones (data without "
                    "a test split, such as a folder of images).")
flags.DEFINE_enum("format", "savedmodel", ["savedmodel", "tflite"], "export: output format.")
flags.DEFINE_enum("quantize", "none", ["none", "float16", "dynamic", "int8"], "export --format tflite: quantization.")
flags.DEFINE_string("name", None, "export --format savedmodel: model name under --out (default: from --model).")
flags.DEFINE_integer("version", None, "export --format savedmodel: version (default: the next one).")
flags.DEFINE_bool("overwrite", False, "export: replace an existing version.")
flags.DEFINE_string("signature", None, "export --format tflite: signature to convert (default: the model's main one).")
flags.DEFINE_string("metrics", "fid,kid,is,pr", "evaluate: comma-separated metrics (fid, kid, is, pr).")
flags.DEFINE_string("extractor", "auto", "evaluate, transfer --keep_best: feature extractor: auto (the zoo "
                    "evaluator of the dataset's domain: fashion_classifier, mnist_classifier, mnist_m_appearance, "
                    "fashion_sketch_classifier, else digits_classifier), a zoo classifier name, inception (InceptionV3, downloads ImageNet "
                    "weights), or a classifier file.")
flags.DEFINE_string("second_extractor", "auto", "study: the second evaluator every table also reports FID under: "
                    "auto (the domain's: vae_fashion, vae_mnist, vae_mnist_m, vae_fashion_sketch; none elsewhere), "
                    "none, or a zoo name or file of a classifier or VAE.")
flags.DEFINE_string("split", "auto", "evaluate: split of the reference images; auto: test where the dataset has "
                    "one (fashion_mnist, mnist, mnist_m, fashion_sketch), else train.")

_define_task_flags()

_DATA = ("dataset", "image_size", "channels", "limit", "seed", "data_dir", "batch_size")
_TEXT = ("seq_len", "prompt", "length", "temperature")
#: The flags each command takes; any other flag of ours given to it is an error.
COMMAND_FLAGS = {
    "train": {"model", "out", "epochs", "lr", "beta1", "model_args", "tiny", "strategy", "loop", "resume",
              "precision", "jit_compile", "steps_per_execution", "checkpoint_every", "on_nonfinite", "deterministic",
              "verbose", "vocab_size", "steps", "sample_every", "augment", *_DATA, *_TEXT},
    "sample": {"model", "out", "n", "seed", "dataset", "data_dir", "unsafe", "verbose", "truncation", "steps", "eta",
               *_TEXT},
    "transfer": {"from", "out", "epochs", "lr", "model_args", "recipe", "verbose", "unsafe", "strategy", "precision",
                 *_DATA, *TASK_OPTIONS},
    "export": {"model", "out", "format", "quantize", "name", "version", "overwrite", "signature", "batch_size",
               "seq_len", "dataset", "seed", "data_dir", "unsafe", "verbose"},
    "evaluate": {"model", "out", "dataset", "metrics", "n", "limit", "seed", "extractor", "split", "data_dir",
                 "unsafe", "verbose"},
    "study": {"from", "dataset", "out", "sizes", "seeds", "methods", "steps", "eval_every", "batch_size", "n",
              "held_out", "freeze_d", "extractor", "second_extractor", "reference", "channels", "data_dir", "verbose"},
    "zoo": set(),
}
OUR_FLAGS = set().union(*COMMAND_FLAGS.values())
#: Integer flags that must be positive when set.
POSITIVE = ("epochs", "batch_size", "image_size", "limit", "checkpoint_every", "steps_per_execution", "n",
            "version", "steps", "sample_every", "eval_every")


class UsageError(ValueError):
    """Bad command-line input: reported in one line with exit status 2."""


def _parse_model_args(text):
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


def _check_flags(command):
    """One-line errors for a flag of another command and for a non-positive count."""
    foreign = sorted(name for name in OUR_FLAGS - COMMAND_FLAGS[command] if FLAGS[name].present)
    if foreign:
        raise UsageError(f"--{foreign[0]} is not a flag of `ktg {command}`")
    for name in POSITIVE:
        value = FLAGS[name].value
        if name in COMMAND_FLAGS[command] and value is not None and value <= 0:
            raise UsageError(f"--{name} must be positive, got {value}")


def _required(*names):
    for name in names:
        if not FLAGS[name].value:
            raise UsageError(f"--{name} is required")


def _print_resume():
    """Where a --resume run starts: the latest checkpoint in --out, or nothing to resume."""
    if FLAGS.resume:
        import tensorflow as tf

        latest = tf.train.latest_checkpoint(os.path.join(FLAGS.out, "checkpoints"))
        print(f"resume: from {latest}" if latest else f"resume: no checkpoint in {FLAGS.out}, starting at step 0")


def _print_paths(paths, lines, samples):
    """What a training command prints: the precision, the task's own lines, then where everything went."""
    print(f"precision: {paths['precision']} ({paths['precision_reason']})")
    for line in lines + [f"model:   {paths['model']}"] + ([f"samples: {samples}"] if samples else []):
        print(line)
    print(f"metrics: {paths['metrics']}")
    return 0


def cmd_train():
    from keras_transfer_gan.runs import train_run

    _required("model", "out")
    if FLAGS.resume and FLAGS.loop == "fit":
        raise UsageError("--resume needs --loop=trainer (checkpoints are the Trainer's)")
    _print_resume()
    paths = train_run(
        FLAGS.model, FLAGS.dataset, FLAGS.out, model_args=_parse_model_args(FLAGS.model_args),
        **{name: FLAGS[name].value for name in COMMAND_FLAGS["train"] - {"model", "dataset", "out", "model_args"}})
    return _print_paths(paths, [], paths["samples"])


def cmd_sample():
    from keras_transfer_gan.runs import sample_run

    _required("model", "out")
    path = sample_run(FLAGS.model, FLAGS.out, n=FLAGS.n, seed=FLAGS.seed, dataset=FLAGS.dataset,
                      data_dir=FLAGS.data_dir, prompt=FLAGS.prompt, length=FLAGS.length,
                      temperature=FLAGS.temperature, safe_mode=not FLAGS.unsafe, truncation=FLAGS.truncation,
                      steps=FLAGS.steps, eta=FLAGS.eta)
    print(f"samples: {path}")
    return 0


def cmd_transfer():
    from keras_transfer_gan.runs import transfer_run

    _required("from", "out")
    common = COMMAND_FLAGS["transfer"] - set(TASK_OPTIONS) - {"from", "dataset", "out", "model_args", "unsafe",
                                                               "image_size", "recipe"}
    _print_resume()
    paths = transfer_run(FLAGS.recipe, FLAGS["from"].value, FLAGS.dataset, FLAGS.out,
                         model_args=_parse_model_args(FLAGS.model_args), safe_mode=not FLAGS.unsafe,
                         image_size=FLAGS.image_size if FLAGS["image_size"].present else None,
                         **{name: FLAGS[name].value for name in common},
                         **{name: FLAGS[name].value for name in TASK_OPTIONS if FLAGS[name].present})
    task = paths["task"]
    samples = paths["samples"] or os.path.join(FLAGS.out, "samples.png") if task.samples is not None else None
    return _print_paths(paths, task.result_lines(paths["result"]), samples)


def cmd_export():
    from keras_transfer_gan.runs import export_run

    _required("model", "out")
    paths = export_run(FLAGS.model, FLAGS.out, format=FLAGS.format, name=FLAGS.name, version=FLAGS.version,
                       overwrite=FLAGS.overwrite, quantize=FLAGS.quantize, signature=FLAGS.signature,
                       batch_size=FLAGS.batch_size if FLAGS["batch_size"].present else 1, seq_len=FLAGS.seq_len,
                       dataset=FLAGS.dataset, seed=FLAGS.seed, data_dir=FLAGS.data_dir, safe_mode=not FLAGS.unsafe)
    if "savedmodel" in paths:
        print(f"savedmodel: {paths['savedmodel']}")
        print(f"config:     {paths['config']}")
    else:
        print(f"tflite: {paths['tflite']}")
    return 0


def cmd_evaluate():
    from keras_transfer_gan.runs import evaluate_run

    _required("model")
    metrics = tuple(m.strip() for m in FLAGS.metrics.split(",") if m.strip())
    out = FLAGS.out or "evaluation.json"
    result = evaluate_run(FLAGS.model, FLAGS.dataset, metrics=metrics, out=out, safe_mode=not FLAGS.unsafe,
                          **{name: FLAGS[name].value for name in ("n", "limit", "seed", "extractor", "split",
                                                                  "data_dir")})
    rows = [(k, f"{v:.4f}" if isinstance(v, float) else str(v)) for k, v in result.items()]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    print(f"json: {out}")
    return 0


def cmd_study():
    from keras_transfer_gan.runs import study_run

    _required("from", "out")
    given = {name: FLAGS[name].value for name in ("steps", "eval_every", "batch_size", "held_out", "freeze_d")
             if FLAGS[name].present}
    if FLAGS["n"].present:
        given["n_fake"] = FLAGS.n
    result = study_run(FLAGS["from"].value, FLAGS.dataset, FLAGS.out, sizes=FLAGS.sizes, seeds=FLAGS.seeds,
                       methods=FLAGS.methods, reference=FLAGS.reference, extractor=FLAGS.extractor,
                       second_extractor=FLAGS.second_extractor,
                       channels=FLAGS.channels, data_dir=FLAGS.data_dir,
                       report=print if FLAGS.verbose else None, **given)
    print(f"study: {result['markdown']}")
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
        _check_flags(argv[1])
        if argv[1] != "zoo":  # zoo reads files only
            import_tensorflow(quiet=FLAGS.verbose < 2 and not os.environ.get("KTG_TF_LOGS"))
        if argv[1] == "zoo":
            return cmd_zoo(argv[2:])
        commands = {"train": cmd_train, "sample": cmd_sample, "transfer": cmd_transfer, "export": cmd_export,
                    "evaluate": cmd_evaluate, "study": cmd_study}
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


def _task_help(argv):
    """``ktg transfer [--recipe NAME] --help``: the task's options (or the tasks), without starting TensorFlow."""
    from keras_transfer_gan.tasks import get_task, list_tasks

    recipe = "auto"
    for i, arg in enumerate(argv):
        if arg.startswith("--recipe="):
            recipe = arg.split("=", 1)[1]
        elif arg == "--recipe" and i + 1 < len(argv):
            recipe = argv[i + 1]
    if recipe == "auto":
        print("usage: ktg transfer --from SOURCE --dataset SPEC --out DIR [--recipe NAME] [options]\n\nRecipes "
              "(auto: the first that accepts the source):")
        print("\n".join(f"  {name:<11} {get_task(name).description}" for name in list_tasks()))
        print("\n`ktg transfer --recipe NAME --help` lists a recipe's options.")
    else:
        task = get_task(recipe)
        print(f"ktg transfer --recipe {task.name}: {task.description}\n")
        print(task.options_class.help_text(task.name))
    return 0


def _parse_flags(argv):
    argv = normalize_argv(argv)
    if len(argv) > 1 and argv[1] == "transfer" and {"--help", "-h", "--helpshort"} & set(argv):
        try:
            sys.exit(_task_help(argv))
        except ValueError as exc:
            print(f"ktg transfer: error: {exc}", file=sys.stderr)
            sys.exit(2)
    try:
        return FLAGS(argv)
    except flags.Error as exc:
        print(f"ktg: error: {exc}".splitlines()[0], file=sys.stderr)
        sys.exit(2)


def run():
    """Console-script entry point."""
    app.run(main, flags_parser=_parse_flags)


if __name__ == "__main__":
    run()
