import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from keras_transfer_gan import create_model
from keras_transfer_gan.registry import get_entry, list_models
from keras_transfer_gan.training import resolve_precision
from keras_transfer_gan.transfer import load_pretrained
from tests.helpers import Concurrent


def ktg(*args, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, "-m", "keras_transfer_gan.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


@pytest.mark.slow
def test_train_then_sample(tmp_path):
    out = tmp_path / "run"
    result = ktg("train", "--model", "dcgan", "--tiny", "--dataset", "digits", "--limit", "128",
                 "--image_size", "16", "--batch_size", "32", "--epochs", "2", "--out", str(out), "--verbose", "0")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"model:   {out / 'model.keras'}" in result.stdout
    policy, reason = resolve_precision("auto")  # the default follows this machine's hardware, and says why
    assert f"precision: {policy} ({reason})" in result.stdout
    assert {"model.keras", "metrics.json", "samples.png", "checkpoints", "tensorboard"} <= set(os.listdir(out))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["history"]["step"] == [4, 8]
    assert len(metrics["history"]["d_loss"]) == 2 and metrics["config"]["image_size"] == 16

    # Resuming a finished run trains nothing more and keeps the step count.
    again = ktg("train", "--model", "dcgan", "--tiny", "--dataset", "digits", "--limit", "128",
                "--image_size", "16", "--batch_size", "32", "--epochs", "3", "--out", str(out),
                "--verbose", "0", "--resume")
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resume: from {out / 'checkpoints' / 'ckpt-8'}" in again.stdout
    assert json.loads((out / "metrics.json").read_text())["history"]["step"] == [12]

    grid = tmp_path / "grid.png"
    result = ktg("sample", "--model", str(out), "--n", "16", "--out", str(grid))
    assert result.returncode == 0, result.stderr[-2000:]
    with Image.open(grid) as img:
        pixels = np.asarray(img)
    assert pixels.shape == ((4 * 17 + 1) * 2, (4 * 17 + 1) * 2)
    assert pixels.std() > 0


def test_train_with_fit_mixed_bfloat16_and_steps_per_execution(tmp_path):
    out = tmp_path / "run"
    result = ktg("train", "--model", "vae", "--tiny", "--dataset", "digits", "--limit", "64", "--image_size", "16",
                 "--batch_size", "16", "--epochs", "1", "--loop", "fit", "--precision", "mixed_bfloat16",
                 "--steps_per_execution", "2", "--jit_compile", "off", "--out", str(out), "--verbose", "0")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "precision: mixed_bfloat16 (asked for)" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["precision"] == "mixed_bfloat16" and metrics["jit_compile"] is False
    assert np.isfinite(metrics["history"]["loss"][-1])
    model = load_pretrained(str(out / "model.keras"))
    # Variables are float32 under any policy; the sub-models are rebuilt under the loading process's policy,
    # so a model trained in mixed precision samples and exports in float32.
    assert model.decoder.get_layer("g_out_deconv").compute_dtype == "float32"
    assert model.generate(2).dtype == np.float32


#: Bad command lines and the message each must print on its one stderr line.
BAD_INPUTS = [
    (["train", "--model", "nope", "--out", "X"], "unknown model 'nope'"),
    (["train", "--model", "dcgan", "--dataset", "digits:12", "--out", "X"], "unknown class 12"),
    (["train", "--model", "dcgan", "--epochs", "0", "--out", "X"], "--epochs must be positive"),
    (["train", "--model", "dcgan", "--steps_per_execution", "0", "--out", "X"], "--steps_per_execution must be"),
    (["train", "--model", "dcgan", "--precision", "float8", "--out", "X"], "precision"),
    (["train", "--model", "dcgan", "--epochs", "two", "--out", "X"], "epochs"),
    (["train", "--model", "dcgan"], "--out is required"),
    (["sample", "--model", "missing.keras", "--out", "g.png"], "no such file or directory"),
    (["fly"], "expected a command"),
    (["sample", "--model", "m.keras", "--out", "g.png", "--epochs", "3"], "--epochs is not a flag of `ktg sample`"),
    (["zoo", "list", "--freeze_d", "2"], "--freeze_d is not a flag of `ktg zoo`"),
    (["evaluate", "--model", "m.keras", "--recipe", "ctgan"], "--recipe is not a flag of `ktg evaluate`"),
]


@pytest.fixture(scope="module")
def bad_input_processes(tmp_path_factory):
    """A real `ktg` process per bad command line, all started at once (each is mostly TensorFlow's import)."""
    jobs = Concurrent(timeout=600)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    folders = {}
    for i, (args, _) in enumerate(BAD_INPUTS):
        folders[i] = tmp_path_factory.mktemp("bad_input")
        args = [str(folders[i] / a) if a in ("X", "missing.keras", "g.png") else a for a in args]
        jobs.start(i, [sys.executable, "-m", "keras_transfer_gan.cli", *args], env=env)
    yield jobs, folders
    jobs.close()


@pytest.mark.parametrize("case", range(len(BAD_INPUTS)), ids=[message for _, message in BAD_INPUTS])
def test_bad_input_exits_2_with_one_line(case, bad_input_processes):
    jobs, folders = bad_input_processes
    result = jobs.result(case)
    assert result.returncode == 2, result.stderr[-2000:]
    assert BAD_INPUTS[case][1] in result.stderr
    assert "Traceback" not in result.stderr
    assert not os.listdir(folders[case])  # nothing written


def run_cli(*argv):
    """Run `ktg` in this process (no TensorFlow start-up per call)."""
    from keras_transfer_gan import cli

    cli.FLAGS.unparse_flags()
    return cli.main(cli._parse_flags(["ktg", *argv]))


@pytest.mark.parametrize("name", [n for n in list_models() if get_entry(n).model_class.generates])
def test_every_architecture_trains_and_samples_from_the_cli(name, tmp_path, capsys):
    out = tmp_path / name
    text = get_entry(name).consumes == "text"
    dataset = "pylicense" if text else "digits"
    assert run_cli("train", "--model", name, "--tiny", "--dataset", dataset, "--image_size", "32",
                   "--limit", "32", "--batch_size", "16", "--epochs", "1", "--out", str(out),
                   "--verbose", "0", "--seq_len", "32", "--length", "20") == 0
    assert (out / "model.keras").is_file() and (out / "metrics.json").is_file()
    sample = tmp_path / ("s.txt" if text else "s.png")
    assert run_cli("sample", "--model", str(out), "--n", "4", "--out", str(sample), "--length", "15",
                   "--prompt", "The ") == 0
    if text:
        written = sample.read_text(encoding="utf-8")
        assert written.startswith("The ") and len(written) == 19
        assert (out / "samples.txt").is_file()
    else:
        with Image.open(sample) as img:
            assert img.size[0] > 32
        assert (out / "samples.png").is_file()
    assert f"model:   {out / 'model.keras'}" in capsys.readouterr().out


@pytest.fixture(scope="module")
def transfer_sources(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sources")
    paths = {}
    for name in ("dcgan", "classifier", "acgan", "ddim"):
        paths[name] = str(directory / f"{name}.keras")
        create_model(name, tiny=True, image_size=16).save(paths[name])
    return paths


@pytest.mark.parametrize("recipe, source, dataset", [
    ("trgan", "dcgan", "digits_m"), ("tgan", "classifier", "digits_m"), ("ctgan", "classifier", "digits_m"),
    ("classifier", "classifier", "digits"), ("augment", "acgan", "digits"), ("diffusion", "ddim", "digits_m"),
])
def test_transfer_recipes_from_the_cli(recipe, source, dataset, transfer_sources, tmp_path, capsys):
    out = tmp_path / recipe
    assert run_cli("transfer", "--recipe", recipe, "--from", transfer_sources[source], "--dataset", dataset,
                   "--limit", "32", "--batch_size", "16", "--epochs", "1", "--out", str(out), "--verbose", "0",
                   "--model_args", "latent_dim=8,g_filters=8,d_filters=8" if recipe in ("tgan", "ctgan") else "",
                   *(["--per_class", "2"] if recipe == "augment" else [])) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert (out / "model.keras").is_file() and metrics["recipe"] == recipe
    if recipe != "augment":
        assert printed.index("Transfer report") < printed.index("model:")
    if recipe in ("classifier", "augment"):
        assert "accuracy" in printed
    else:
        assert (out / "samples.png").is_file()


def test_few_shot_method_flags_reach_the_run(transfer_sources, tmp_path, capsys):
    """--cdc, --ewc, --scale_shift and --keep_best end to end: recorded, applied, and the best block kept."""
    out = tmp_path / "methods"
    assert run_cli("transfer", "--from", transfer_sources["dcgan"], "--dataset", "digits_m", "--limit", "16",
                   "--batch_size", "8", "--steps", "2", "--sample_every", "1", "--cdc", "1", "--ewc", "1",
                   "--scale_shift", "bn", "--keep_best", "--held_out", "16", "--extractor",
                   transfer_sources["classifier"], "--out", str(out), "--verbose", "0") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["cdc"], metrics["ewc"], metrics["scale_shift"], metrics["keep_best"]) == (1.0, 1.0, "bn", True)
    assert [p["step"] for p in metrics["extra"]["held_out_kid"]] == [0, 1, 2]  # the source, then each block
    assert metrics["extra"]["best_step"] in (0, 1, 2)
    frozen = metrics["freeze"]["generator"]["frozen"]
    assert frozen > 0 and metrics["freeze"]["generator"]["trainable"] < frozen  # scale/shift: little of G trains


@pytest.mark.slow
def test_diffusion_methods_from_the_cli(transfer_sources, tmp_path, capsys):
    """--lora and --pairwise end to end on a diffusion source: recorded, only the factors trained, the saved
    model merged (no LoRA left); --adapters trains the adaptors alone; both at once is a one-line error."""
    import keras

    out = tmp_path / "lora"
    assert run_cli("transfer", "--from", transfer_sources["ddim"], "--dataset", "digits", "--limit", "16",
                   "--batch_size", "8", "--steps", "2", "--sample_every", "1", "--lora", "2", "--pairwise", "1",
                   "--out", str(out), "--verbose", "0") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["recipe"], metrics["lora"], metrics["pairwise"]) == ("diffusion", 2, 1.0)
    assert metrics["freeze"]["denoiser"]["trainable"] < metrics["freeze"]["denoiser"]["frozen"]
    saved = keras.models.load_model(out / "model.keras")
    assert saved.lora_rank == 0 and not any("lora" in v.path for v in saved.weights)
    out = tmp_path / "adapters"
    assert run_cli("transfer", "--from", transfer_sources["ddim"], "--dataset", "digits", "--limit", "16",
                   "--batch_size", "8", "--steps", "2", "--sample_every", "1", "--adapters", "8",
                   "--out", str(out), "--verbose", "0") == 0
    assert json.loads((out / "metrics.json").read_text())["adapters"] == 8
    capsys.readouterr()
    assert run_cli("transfer", "--from", transfer_sources["ddim"], "--dataset", "digits", "--limit", "16",
                   "--steps", "2", "--lora", "2", "--adapters", "8", "--out", str(tmp_path / "both")) == 2
    err = capsys.readouterr().err.strip()
    assert "choose --lora or --adapters, not both" in err and "\n" not in err, err


def test_auto_picks_the_first_task_that_accepts_the_source(transfer_sources, tmp_path, capsys):
    """A classifier source is no GAN: `auto` passes over trgan and text to tgan (its feature network)."""
    out = tmp_path / "auto"
    assert run_cli("transfer", "--from", transfer_sources["classifier"], "--dataset", "digits_m", "--limit", "32",
                   "--batch_size", "16", "--steps", "2", "--out", str(out), "--verbose", "0",
                   "--model_args", "latent_dim=8,g_filters=8,d_filters=8") == 0
    assert json.loads((out / "metrics.json").read_text())["recipe"] == "tgan"


def test_transfer_help_lists_a_recipes_options():
    """`ktg transfer --recipe NAME --help` prints that task's options (from its dataclass), in a fresh process."""
    from keras_transfer_gan.tasks import get_task, list_tasks

    for name in list_tasks():
        done = subprocess.run([sys.executable, "-m", "keras_transfer_gan.cli", "transfer", "--recipe", name, "--help"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        for field in get_task(name).options_class.fields():
            assert f"--{field.name}=" in done.stdout and field.metadata["help"] in done.stdout
    done = subprocess.run([sys.executable, "-m", "keras_transfer_gan.cli", "transfer", "--help"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and all(name in done.stdout for name in list_tasks())


def test_transfer_prints_report_and_freeze_summary_before_training(transfer_sources, tmp_path, capsys):
    out = tmp_path / "t"
    assert run_cli("transfer", "--from", transfer_sources["dcgan"], "--dataset", "digits_m", "--limit", "32",
                   "--freeze-d", "2", "--augment", "diffaugment", "--batch_size", "16", "--epochs", "1",
                   "--out", str(out), "--verbose", "0") == 0
    printed = capsys.readouterr().out
    assert printed.index("Transfer report") < printed.index("Freeze summary") < printed.index("model:")
    assert "generator/g_out_deconv/kernel" in printed and "adapted" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["freeze_d"] == 2 and metrics["augment"] == "diffaugment"
    assert metrics["freeze"]["discriminator"]["frozen"] > 0 and metrics["report"]["counts"]["adapted"] == 3


@pytest.mark.parametrize("argv, message", [
    (["transfer", "--dataset", "digits"], "--from is required"),
    (["transfer", "--from", "no_such_zoo_model", "--out", "x"], "not a zoo checkpoint"),
    (["transfer", "--from", "SRC", "--out", "x", "--freeze-d", "-1"], "--freeze_d must be >= 0"),
    (["transfer", "--from", "SRC", "--out", "x", "--l2_sp", "0.1"], "--l2_sp: expected 'alpha,beta'"),
    (["transfer", "--from", "SRC", "--out", "x", "--freeze-d", "9"], "cannot freeze 9"),
    (["transfer", "--from", "SRC", "--out", "x", "--steps", "7", "--sample_every", "3"], "multiple of --sample_every"),
    (["transfer", "--recipe", "classifier", "--from", "SRC", "--out", "x", "--resume"], "--resume is not an option of --recipe classifier"),
    (["transfer", "--recipe", "tgan", "--from", "SRC", "--out", "x", "--freeze_d", "1"],
     "--freeze_d is not an option of --recipe tgan"),
    (["transfer", "--recipe", "text", "--from", "SRC", "--out", "x"], "--recipe text: needs a character model"),
    (["train", "--model", "vae", "--out", "x", "--augment", "ada"], "--augment is for GANs"),
    (["train", "--model", "dcgan", "--out", "x", "--steps", "5", "--sample_every", "2"], "multiple of --sample_every"),
    (["study", "--from", "SRC", "--out", "x", "--sizes", "ten"], "--sizes: expected a comma list of integers"),
    (["study", "--from", "SRC", "--out", "x", "--methods", "magic"], "unknown method 'magic'"),
    (["zoo", "info"], "usage: ktg zoo list"),
])
def test_transfer_bad_input(argv, message, transfer_sources, capsys):
    argv = [transfer_sources["dcgan"] if a == "SRC" else a for a in argv]
    assert run_cli(*argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err, err


def test_export_savedmodel_and_tflite_from_the_cli(transfer_sources, tmp_path, capsys):
    base = tmp_path / "serving"
    assert run_cli("export", "--model", transfer_sources["acgan"], "--format", "savedmodel", "--out", str(base)) == 0
    assert run_cli("export", "--model", transfer_sources["acgan"], "--format", "savedmodel", "--out", str(base)) == 0
    printed = capsys.readouterr().out
    assert f"savedmodel: {base}/acgan/2" in printed and (base / "acgan" / "1" / "saved_model.pb").is_file()
    assert 'name: "acgan"' in (base / "models.config").read_text()
    assert run_cli("export", "--model", transfer_sources["acgan"], "--out", str(base), "--version", "1") == 2
    assert "version 1 of 'acgan' exists" in capsys.readouterr().err
    path = tmp_path / "g.tflite"
    assert run_cli("export", "--model", transfer_sources["dcgan"], "--format", "tflite", "--quantize", "dynamic",
                   "--out", str(path)) == 0
    report = json.loads((tmp_path / "g.tflite.json").read_text())
    assert path.is_file() and report["quantization"] == "dynamic" and report["max_abs_error"] < 0.05
    assert run_cli("export", "--model", transfer_sources["classifier"], "--format", "tflite", "--quantize",
                   "int8", "--dataset", "digits", "--out", str(tmp_path / "c.tflite")) == 0
    assert run_cli("export", "--model", transfer_sources["dcgan"], "--format", "tflite", "--out",
                   str(tmp_path / "g.bin")) == 2
    assert "must end with .tflite" in capsys.readouterr().err


def test_evaluate_prints_a_table_and_writes_json(transfer_sources, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert run_cli("evaluate", "--model", transfer_sources["dcgan"], "--dataset", "digits", "--n", "64",
                   "--extractor", transfer_sources["classifier"], "--out", str(out)) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert {"fid", "kid", "is", "precision", "recall"} <= set(result) and result["n_fake"] == 64
    assert "fid" in printed and f"json: {out}" in printed
    assert run_cli("evaluate", "--model", transfer_sources["dcgan"], "--metrics", "fid,lpips") == 2
    assert "unknown metric 'lpips'" in capsys.readouterr().err
