"""Bad inputs across the API and the CLI: each gives a one-line ValueError (exit 2 from the CLI, no
traceback) and leaves every existing file untouched."""

import hashlib
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_transfer_gan import create_model, load_dataset, load_images, load_pretrained
from keras_transfer_gan.data import Vocabulary
from keras_transfer_gan.export import export_saved_model, export_tflite
from keras_transfer_gan.training import Trainer, compile_for_training
from keras_transfer_gan.transfer import rebuild_heads
from tests.helpers import Concurrent
from tests.test_cli import run_cli

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """Existing files every case must leave alone: models, a truncated copy, an export, a corrupt SavedModel."""
    root = tmp_path_factory.mktemp("sandbox")
    model = create_model("dcgan", tiny=True)
    model.save(str(root / "good.keras"))
    data = (root / "good.keras").read_bytes()
    (root / "truncated.keras").write_bytes(data[: len(data) // 2])
    (root / "corrupt.h5").write_bytes(os.urandom(4096))
    legacy = open(os.path.join(FIXTURES, "legacy_generator.h5"), "rb").read()
    (root / "truncated.h5").write_bytes(legacy[:6000])
    (root / "corrupt_sm").mkdir()
    (root / "corrupt_sm" / "saved_model.pb").write_bytes(b"\x00garbage")
    (root / "not_a_model").mkdir()
    (root / "empty_folder").mkdir()
    (root / "a_file").write_text("x")
    export_saved_model(model, str(root / "serving"), "gen", warmup=False)
    inputs = keras.Input((4,))
    lam = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    lam.save(str(root / "lambda.keras"))
    text = create_model("char_lstm", tiny=True, vocabulary=Vocabulary.from_text("abcdef"))
    return root, model, text


def _snapshot(root):
    state = {}
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                state[path] = (os.path.getmtime(path), hashlib.sha256(f.read()).hexdigest())
    return state


def _trainer_fit_zero_epochs(model):
    compile_for_training(model)
    Trainer(model, verbose=0).fit(load_dataset("digits", image_size=16, limit=32, batch_size=16), epochs=0)


CASES = [  # (id, callable(root, model, text), message)
    ("missing .keras", lambda r, m, t: load_pretrained(str(r / "missing.keras")), "no such file"),
    ("truncated .keras", lambda r, m, t: load_pretrained(str(r / "truncated.keras")), "cannot load the .keras file"),
    ("corrupted .h5", lambda r, m, t: load_pretrained(str(r / "corrupt.h5")), "not a Keras 2 HDF5"),
    ("truncated legacy .h5", lambda r, m, t: load_pretrained(str(r / "truncated.h5")), "not a Keras 2 HDF5"),
    ("corrupted SavedModel", lambda r, m, t: load_pretrained(str(r / "corrupt_sm")), "cannot load the SavedModel"),
    ("directory that is no model", lambda r, m, t: load_pretrained(str(r / "not_a_model")), "no saved_model.pb"),
    ("lambda in .keras (safe mode)", lambda r, m, t: load_pretrained(str(r / "lambda.keras")), "safe_mode"),
    ("wrong z shape", lambda r, m, t: m.generate(np.zeros((2, 5), "float32")), "z must be shaped (n, 16)"),
    ("wrong image channels", lambda r, m, t: create_model("vae", tiny=True).encode(np.zeros((2, 16, 16, 3))),
     "images must be shaped (n, 16, 16, 1)"),
    ("wrong image dtype", lambda r, m, t: create_model("classifier", tiny=True).features(np.array([["a"]])),
     "images must be numeric"),
    ("labels out of range", lambda r, m, t: create_model("acgan", tiny=True).generate(4, labels=[0, 1, 2, 11]),
     "labels must be in [0, 10)"),
    ("class filter out of range", lambda r, m, t: load_dataset("digits:12"), "unknown class 12"),
    ("empty dataset", lambda r, m, t: load_dataset(str(r / "empty_folder")), "no image files"),
    ("limit larger than the dataset", lambda r, m, t: load_dataset("faces", limit=500), "exceeds the 100 images"),
    ("unknown model", lambda r, m, t: create_model("stylegan9"), "unknown model 'stylegan9'"),
    ("unknown zoo name", lambda r, m, t: load_pretrained("dcgan_mars"), "not a zoo checkpoint"),
    ("unknown dataset", lambda r, m, t: load_images("mnist_foo"), "unknown dataset 'mnist_foo'"),
    ("invalid quantisation", lambda r, m, t: export_tflite(m, str(r / "x.tflite"), "int4"),
     "quantization must be one of"),
    ("export into a file", lambda r, m, t: export_saved_model(m, str(r / "a_file" / "serving"), "gen"),
     "is a file, not a directory"),
    ("export version exists", lambda r, m, t: export_saved_model(m, str(r / "serving"), "gen", version=1),
     "version 1 of 'gen' exists"),
    ("vocabulary mismatch", lambda r, m, t: rebuild_heads(t, t, vocabularies=(Vocabulary.from_text("xyz"), t.vocabulary)),
     "is not the source model's"),
    ("zero batch size", lambda r, m, t: load_dataset("digits", batch_size=0), "batch_size must be a positive"),
    ("zero epochs (Trainer)", lambda r, m, t: _trainer_fit_zero_epochs(create_model("dcgan", tiny=True)),
     "epochs must be a positive integer"),
    ("bad channel count", lambda r, m, t: load_dataset("digits", channels=2), "channels must be 1, 3 or None"),
    ("negative per_class", lambda r, m, t: __import__("keras_transfer_gan.tasks", fromlist=["x"])
     .augment_with_generator(np.zeros((2, 16, 16, 1)), [0, 1], create_model("acgan", tiny=True), -1),
     "per_class must be a non-negative"),
]

CLI_CASES = [
    ("cli: epochs 0", ["train", "--model", "dcgan", "--epochs", "0", "--out", "OUT"], "--epochs must be positive"),
    ("cli: negative batch size", ["train", "--model", "dcgan", "--batch_size", "-4", "--out", "OUT"],
     "--batch_size must be positive"),
    ("cli: unknown model", ["train", "--model", "nope", "--out", "OUT"], "unknown model 'nope'"),
    ("cli: unknown dataset", ["train", "--model", "dcgan", "--dataset", "nowhere", "--out", "OUT"],
     "unknown dataset 'nowhere'"),
    ("cli: unknown zoo name", ["zoo", "info", "dcgan_mars"], "unknown zoo checkpoint 'dcgan_mars'"),
    ("cli: truncated model", ["sample", "--model", "ROOT/truncated.keras", "--out", "OUT.png"],
     "cannot load the .keras file"),
    ("cli: invalid quantisation", ["export", "--model", "ROOT/good.keras", "--format", "tflite", "--quantize", "int4",
                                   "--out", "OUT.tflite"], "quantize"),
    ("cli: existing version", ["export", "--model", "ROOT/good.keras", "--out", "ROOT/serving", "--name", "gen",
                               "--version", "1"], "version 1 of 'gen' exists"),
    ("cli: lambda without --unsafe", ["sample", "--model", "ROOT/lambda.keras", "--out", "OUT.png"], "safe_mode"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_api_bad_input(case, sandbox):
    root, model, text = sandbox
    before = _snapshot(root)
    with pytest.raises(ValueError) as info:
        case[1](root, model, text)
    message = str(info.value)
    assert case[2] in message and "\n" not in message, message
    assert _snapshot(root) == before


@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input(case, sandbox, tmp_path, capsys):
    root, _, _ = sandbox
    before = _snapshot(root)
    argv = [a.replace("ROOT", str(root)).replace("OUT", str(tmp_path / "out")) for a in case[1]]
    try:
        code = run_cli(*argv)
    except SystemExit as exc:  # absl flag errors
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and case[2] in err and "\n" not in err and "Traceback" not in err, err
    assert _snapshot(root) == before


def test_the_table_is_big_enough():
    assert len(CASES) + len(CLI_CASES) >= 25


@pytest.fixture(scope="module")
def cli_processes(sandbox, tmp_path_factory):
    """A real `ktg` process per CLI case, all started at once (each is mostly TensorFlow's import)."""
    root, _, _ = sandbox
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KTG_TF_LOGS")}
    jobs = Concurrent(timeout=600)
    for name, args, _ in CLI_CASES:
        out = tmp_path_factory.mktemp("cli_out") / "out"
        argv = [a.replace("ROOT", str(root)).replace("OUT", str(out)) for a in args]
        jobs.start(name, [sys.executable, "-m", "keras_transfer_gan.cli", *argv], env=env)
    yield jobs
    jobs.close()


@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input_in_a_fresh_process_prints_one_line(case, cli_processes):
    """A real `ktg` process: its whole stderr is the one-line error, TensorFlow's start-up lines discarded."""
    job = cli_processes.result(case[0])
    assert job.returncode == 2
    lines = job.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ktg") and case[2] in lines[0], job.stderr


def test_tensorflows_start_up_lines_show_when_asked(tmp_path):
    argv = [sys.executable, "-m", "keras_transfer_gan.cli", "sample", "--model", str(tmp_path / "none.keras"),
            "--out", str(tmp_path / "g.png")]
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KTG_TF_LOGS")}
    for extra, extra_env in ((["--verbose", "2"], {}), ([], {"KTG_TF_LOGS": "1"})):
        job = subprocess.run(argv + extra, capture_output=True, text=True, timeout=300, env={**env, **extra_env})
        assert job.returncode == 2 and len(job.stderr.strip().splitlines()) > 1, job.stderr
