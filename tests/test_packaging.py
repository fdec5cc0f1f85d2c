"""The package as users install and import it: the zoo inside the wheel, Keras' loader after import."""

import os
import site
import subprocess
import sys
import textwrap

import pytest

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
        """, cwd=str(elsewhere), python=python)
    assert job.returncode == 0, job.stderr[-2000:]
    package_file, zoo_dir, shape, card = job.stdout.strip().splitlines()
    assert package_file.startswith(str(venv)) and not package_file.startswith(ROOT)
    assert zoo_dir.startswith(str(venv)) and zoo_dir.endswith(os.path.join("zoo_data", "checkpoints"))
    assert shape == "(2, 32, 32, 1)" and card == "True"
