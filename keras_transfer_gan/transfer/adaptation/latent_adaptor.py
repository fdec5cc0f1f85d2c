"""GenDA's latent adaptor (Yang et al., 2021): adapt a frozen generator through an affine map of its latent code."""

from keras_transfer_gan.transfer.adaptation.freeze_summary import FreezeSummary
from keras_transfer_gan.transfer.adaptation.heads import derive_model
from keras_transfer_gan.transfer.adaptation.weights import layer_paths


def latent_adaptor_target(source, **overrides):
    """A target built from `source` with its latent adaptor (``latent_adaptor=True``: an identity-initialised
    affine map of w before synthesis, ``w_adaptor``), where only the adaptor trains in the generator (and layers
    adapted to a new channel count: frozen, a gray source could not learn colour). The target first computes
    exactly what the source did. ``(model, report, freeze summary)``.

    Departure from GenDA: its discriminator is the frozen source D with a trained attribute adaptor and
    classifier; here D fine-tunes as in TrGAN (combine with Freeze-D to keep most of it)."""
    source.require_method("latent_adaptor")
    model, report = derive_model(source, latent_adaptor=True, **overrides)
    trained = {"w_adaptor"} | {path.split("/")[1] for path in report.by_status("adapted")
                               if path.startswith(f"{model.generator.name}/")}
    frozen = []
    for path, layer in layer_paths(model, model.generator.name):
        layer.trainable = path.split("/")[1] in trained
        if not layer.trainable:
            frozen.append(path)
    model.train_function = None
    return model, report, FreezeSummary.of(model, frozen)
