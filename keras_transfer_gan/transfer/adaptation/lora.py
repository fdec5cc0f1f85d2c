"""LoRA (Hu et al., 2022) on a diffusion model's denoiser through Keras' own `layer.enable_lora`: a target whose
only trainable weights are the low-rank factors, and the merge that folds them back for export."""

from keras_transfer_gan.transfer.adaptation.freeze_summary import FreezeSummary
from keras_transfer_gan.transfer.adaptation.heads import derive_model


def lora_target(source, rank=4, **overrides):
    """A target built from `source` with LoRA of `rank` on every convolution and dense layer of its denoiser
    (``lora_rank``: Keras' `enable_lora`, each kernel frozen beside factors ``A`` (he-uniform) and ``B``
    (zeros), so the target first computes exactly what the source did); everything else is frozen, except
    layers adapted to a new channel or class count (a gray source's input layer could not take colour
    otherwise). ``(model, report, freeze summary)``."""
    source.require_method("lora")
    if rank < 1:
        raise ValueError(f"lora_target: rank must be >= 1, got {rank!r}")
    model, report = derive_model(source, lora_rank=int(rank), **overrides)
    network = model.denoiser
    adapted = {path.split("/")[1] for path in report.by_status("adapted") if path.startswith(f"{network.name}/")}
    frozen = []
    for layer in network.layers:
        if layer.name in adapted or not layer.weights:
            continue
        factors = {id(v) for v in layer.weights if "lora_kernel" in v.path}
        if not factors:
            layer.trainable = False  # norms, the label embedding: frozen whole
        for variable in layer.weights:  # a LoRA layer: its kernel (frozen by Keras) and bias frozen, factors train
            variable.trainable = id(variable) in factors
        frozen.append(f"{network.name}/{layer.name}")
    model.train_function = None
    return model, report, FreezeSummary.of(model, frozen)


def merge_lora(model):
    """The same model without LoRA: a plain model whose kernels are ``W + (alpha / rank) A B`` (what Keras'
    LoRA layers compute), for export and for transfer onwards; a model without LoRA is returned as is."""
    if not getattr(model, "lora_rank", 0):
        return model
    plain, _ = derive_model(model, lora_rank=0)
    pairs = [(model.denoiser, plain.denoiser)]
    if model.denoiser_ema is not None:
        pairs.append((model.denoiser_ema, plain.denoiser_ema))
    for adapted, target in pairs:
        merged = {layer._kernel.path: layer.kernel for layer in model.lora_layers(adapted)}
        for variable in target.weights:
            if variable.path in merged:
                variable.assign(merged[variable.path])
    return plain
