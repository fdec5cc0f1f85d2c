"""DPMs-ANT's adaptors (Wang et al., ICML 2024) on a diffusion model: small modules beside the frozen denoiser's
blocks, the only weights that train."""

from keras_transfer_gan.transfer.adaptation.freeze_summary import FreezeSummary
from keras_transfer_gan.transfer.adaptation.heads import derive_model


def adapter_target(source, dim=16, patch=4, **overrides):
    """A target built from `source` with adaptors of width `dim` and pooling `patch` (``adapter_dim``,
    ``adapter_patch``: beside every residual block and the output layer, starting near zero so the target
    first computes what the source did), where only the adaptors train (and layers adapted to a new channel or
    class count). ``(model, report, freeze summary)``.

    Departures from the authors' code: no adaptor beside the attention blocks, no dropout inside the adaptors,
    and neither their similarity-guided training nor their adversarial noise selection (the adaptor is the
    parameter-efficient part this toolkit offers; the pairwise-similarity loss is `DiffusionPairwise`)."""
    source.require_method("adapters")
    if dim < 1 or patch < 1:
        raise ValueError(f"adapter_target: dim and patch must be >= 1, got {dim!r}, {patch!r}")
    model, report = derive_model(source, adapter_dim=int(dim), adapter_patch=int(patch), **overrides)
    network = model.denoiser
    adapted = {path.split("/")[1] for path in report.by_status("adapted") if path.startswith(f"{network.name}/")}
    frozen = []
    for layer in network.layers:
        layer.trainable = model.is_adapter_layer(layer.name) or layer.name in adapted
        if not layer.trainable and layer.weights:
            frozen.append(f"{network.name}/{layer.name}")
    model.train_function = None
    return model, report, FreezeSummary.of(model, frozen)
