"""`create_model`: a registered architecture, fresh (the registry builds it) or from pretrained weights."""

from keras_transfer_gan import zoo
from keras_transfer_gan.registry import build_model, get_entry
from keras_transfer_gan.transfer.loading import load_pretrained


def create_model(name, tiny=False, replicas=1, pretrained=None, **overrides):
    """Build a registered model, or load one to start from.

    Args:
        name: str. A name from `list_models()`.
        tiny: bool. Start from the architecture's tiny test configuration.
        replicas: int. Replicas it will train on; above 1, the entry's
            `distributed` defaults apply (overrides still win).
        pretrained: None, a zoo checkpoint name (``"dcgan_digits"``) or a
            model file: start from its weights (`load_pretrained`), with
            `overrides` rebuilding the heads that change.
        **overrides: constructor arguments.

    Example:
    >>> model = create_model("dcgan", pretrained="dcgan_digits", channels=3)   # gray source, colour heads
    """
    get_entry(name)
    if pretrained is None:
        return build_model(name, tiny=tiny, replicas=replicas, **overrides)
    if zoo.is_zoo_name(pretrained) and zoo.zoo_config(pretrained).get("model") != name:
        raise ValueError(f"create_model({name!r}): zoo checkpoint {pretrained!r} is a "
                         f"{zoo.zoo_config(pretrained).get('model')!r} model")
    return load_pretrained(pretrained, **overrides)
