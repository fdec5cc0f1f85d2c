"""Legacy Keras 2 `.h5` files (full model or weights only) read under Keras 3."""

import h5py
import keras
import numpy as np

from keras_transfer_gan.models.ema import ema_name
from keras_transfer_gan.transfer.adaptation.weights import submodels


def is_legacy_h5(path):
    """True for a Keras 2 HDF5 file: a full model (``model_weights``) or `save_weights` output (``layer_names``)."""
    try:
        with h5py.File(path, "r") as f:
            return "model_weights" in f or "layer_names" in f.attrs
    except OSError:
        return False


def has_architecture(path):
    with h5py.File(path, "r") as f:
        return "model_config" in f.attrs


@keras.saving.register_keras_serializable(package="keras_transfer_gan_legacy")
class LegacyConv2DTranspose(keras.layers.Conv2DTranspose):
    """`Conv2DTranspose` that accepts Keras 2's ``groups`` argument (always 1 there) and drops it."""

    def __init__(self, *args, groups=1, **kwargs):
        if groups != 1:
            raise ValueError(f"Conv2DTranspose with groups={groups} is not supported")
        super().__init__(*args, **kwargs)


def load_legacy_model(path):
    """The Keras 2 full model as a Keras 3 model (the Keras 2 training config is not loaded)."""
    return keras.models.load_model(path, compile=False, custom_objects={"Conv2DTranspose": LegacyConv2DTranspose})


def read_legacy_weights(path):
    """``{"LAYER/WEIGHT": array}`` from a Keras 2 `.h5` (full model or weights only), in file order."""
    arrays = {}
    with h5py.File(path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        for layer_name in _names(group.attrs["layer_names"]):
            layer_group = group[layer_name]
            for weight_name in _names(layer_group.attrs.get("weight_names", [])):
                short = weight_name.split("/")[-1].split(":")[0]
                arrays[f"{layer_name}/{short}"] = np.asarray(layer_group[weight_name])
    return arrays


def _names(values):
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def legacy_arrays_for(model, arrays):
    """Key legacy ``LAYER/WEIGHT`` arrays by the target's ``SUBMODEL/LAYER/WEIGHT`` paths.

    A legacy layer goes to the first sub-model (generator before
    discriminator) holding a layer of the same name, and to its EMA copy;
    arrays whose layer no sub-model has keep their legacy key, so the
    `TransferReport` lists them as unused in source.
    """
    owners = {}
    for part in submodels(model, include_ema=False):
        for variable in part.weights:
            owners.setdefault(variable.path.split("/")[0], part.name)
    ema_names = {part.name for part in submodels(model)} - {part.name for part in submodels(model, include_ema=False)}
    keyed = {}
    for key, value in arrays.items():
        owner = owners.get(key.split("/")[0])
        if owner is None:
            keyed[key] = value
            continue
        keyed[f"{owner}/{key}"] = value
        if ema_name(owner) in ema_names:  # the average starts from the loaded weights
            keyed[f"{ema_name(owner)}/{key}"] = value
    return keyed
