"""The package as users install and import it: the zoo inside the wheel, Keras' loader after import."""

import os
import site
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import Concurrent

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python(code, cwd, python=sys.executable, env=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    env.pop("KTG_ZOO_DIR", None)
    return subprocess.run([python, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


@pytest.mark.parametrize("keras_first", [False, True])
def test_keras_load_model_reads_our_files_once_the_package_is_imported(tmp_path, keras_first):
    """In a fresh process: `import keras_transfer_gan` loads no TensorFlow, yet registers every class in time."""
    files = [os.path.join(ROOT, "saved_models", name, "model.keras")
             for name in ("dcgan_digits", "acgan_fashion", "vae_fashion", "charlstm_pydocs", "fashion_classifier")]
    job = _python(f"""
        import sys
        {"import keras" if keras_first else ""}
        import keras_transfer_gan
        print("tensorflow" in sys.modules)
        import keras
        for path in {files!r}:
            print(type(keras.models.load_model(path)).__name__)
        """, cwd=str(tmp_path))
    assert job.returncode == 0, job.stderr[-2000:]
    lines = job.stdout.split()
    assert lines[0] == str(keras_first)  # imported alone, the package does not load TensorFlow
    assert lines[1:] == ["DCGAN", "ConditionalGAN", "VAE", "LSTMTextGenerator", "ImageClassifier"]


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory):
    """A `.keras` file as `ktg train` writes it (so the CLI's own load path is exercised too)."""
    out = tmp_path_factory.mktemp("trained") / "run"
    job = subprocess.run([sys.executable, "-c", "from keras_transfer_gan.cli import run; run()", "train", "--model",
                          "dcgan", "--tiny", "--image_size", "16", "--dataset", "digits", "--limit", "16",
                          "--batch_size", "16", "--epochs", "1", "--out", str(out), "--verbose", "0"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert job.returncode == 0, job.stderr[-2000:]
    return str(out / "model.keras")


#: Every order in which a program can come to Keras after importing the package (or before it). Each ends by
#: loading with Keras' own loader, which finds our classes only if they were registered in time.
IMPORT_PATHS = {
    # TensorFlow (and so Keras) loaded by the package on the program's behalf: the hook's first casualty
    "package_then_data_then_keras": """
        import keras_transfer_gan as ktg
        ktg.load_dataset("digits", image_size=16, limit=4)
        import keras
        model = keras.models.load_model(PATH)""",
    "package_then_tensorflow_then_tf_keras": """
        import keras_transfer_gan
        import tensorflow as tf
        model = tf.keras.models.load_model(PATH)""",
    "keras_first": """
        import keras
        import keras_transfer_gan
        model = keras.models.load_model(PATH)""",
    "tensorflow_first": """
        import tensorflow as tf
        import keras_transfer_gan
        model = tf.keras.models.load_model(PATH)""",
    "data_submodule_first": """
        from keras_transfer_gan.data import load_images
        import keras
        model = keras.models.load_model(PATH)""",
    "training_submodule_first": """
        from keras_transfer_gan.training import Trainer
        import keras
        model = keras.models.load_model(PATH)""",
    "metrics_submodule_first": """
        from keras_transfer_gan.metrics import frechet
        import tensorflow as tf
        model = tf.keras.models.load_model(PATH)""",
    "utils_submodule_first_then_keras_saving": """
        from keras_transfer_gan.utils import atomic
        from keras.saving import load_model
        model = load_model(PATH)""",
}


@pytest.fixture(scope="module")
def import_path_jobs(trained_file, tmp_path_factory):
    """One fresh process per import path, all started at once (each is mostly TensorFlow's import)."""
    jobs = Concurrent(timeout=900)
    cwd = str(tmp_path_factory.mktemp("import_paths"))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("KTG_ZOO_DIR", None)
    for program, code in IMPORT_PATHS.items():
        source = f"PATH = {trained_file!r}\n" + textwrap.dedent(code).strip() + \
            "\nprint(type(model).__name__, model.generate(2).shape)\n"
        jobs.start(program, [sys.executable, "-c", source], cwd=cwd, env=env)
    yield jobs
    jobs.close()


@pytest.mark.parametrize("program", sorted(IMPORT_PATHS))
def test_keras_loads_our_files_on_every_import_path(program, import_path_jobs):
    """In a fresh process, whichever way the program reaches Keras, `load_model` finds DCGAN."""
    job = import_path_jobs.result(program)
    assert job.returncode == 0, job.stderr[-2000:]
    assert job.stdout.split()[:1] == ["DCGAN"], job.stdout


def test_the_cli_loads_the_file_it_trained(trained_file, tmp_path):
    """`ktg sample` reads the `.keras` file `ktg train` wrote (the CLI's own import order)."""
    out = tmp_path / "grid.png"
    job = subprocess.run([sys.executable, "-c", "from keras_transfer_gan.cli import run; run()", "sample", "--model",
                          trained_file, "--n", "4", "--out", str(out), "--verbose", "0"], cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert job.returncode == 0, job.stderr[-2000:]
    assert out.stat().st_size > 0


@pytest.mark.slow
def test_the_wheel_carries_the_zoo_into_a_fresh_environment(tmp_path):
    """Build the wheel, install it into a new virtual environment outside the checkout (the dependencies are
    this environment's, read through a path entry, so no download), and use the zoo there."""
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(wheels), ROOT], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.iterdir()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    installed = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    fresh_site = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True,
                                text=True, check=True).stdout.strip()
    with open(os.path.join(fresh_site, "dependencies.pth"), "w") as f:  # TensorFlow & co., not our package
        f.write("\n".join(site.getsitepackages()) + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listing = subprocess.run([str(venv / "bin" / "ktg"), "zoo", "list"], cwd=str(elsewhere), capture_output=True,
                             text=True, timeout=600, env={k: v for k, v in os.environ.items() if k != "KTG_ZOO_DIR"})
    assert listing.returncode == 0, listing.stderr[-2000:]
    assert "dcgan_fashion_base" in listing.stdout and "fashion_classifier" in listing.stdout
    job = _python("""
        import keras_transfer_gan as ktg
        from keras_transfer_gan import zoo
        model = ktg.load_pretrained("dcgan_fashion_base")          # sha256-verified, from the package's data
        print(ktg.__file__)
        print(zoo.zoo_dir())
        print(model.generate(2).shape)
        print("Measured on the `test` split" in zoo.zoo_card("dcgan_fashion_base"))
        ktg.load_dataset("digits", image_size=16, limit=4)  # loads Keras on the program's behalf
        import keras
        print(type(keras.models.load_model(zoo.zoo_path("dcgan_fashion_base"))).__name__)
        """, cwd=str(elsewhere), python=python)
    assert job.returncode == 0, job.stderr[-2000:]
    package_file, zoo_dir, shape, card, loaded = job.stdout.strip().splitlines()
    assert loaded == "DCGAN"
    assert package_file.startswith(str(venv)) and not package_file.startswith(ROOT)
    assert zoo_dir.startswith(str(venv)) and zoo_dir.endswith(os.path.join("zoo_data", "checkpoints"))
    assert shape == "(2, 32, 32, 1)" and card == "True"
