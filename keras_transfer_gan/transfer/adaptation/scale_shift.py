"""Scale/shift adaptation: train only the generator's normalisation scale and shift (and optionally kernel modulation)."""

from keras_transfer_gan.transfer.adaptation.freeze_summary import FreezeSummary
from keras_transfer_gan.transfer.adaptation.freezing import layer_paths
from keras_transfer_gan.transfer.adaptation.heads import derive_model


def adapt_scale_shift(model, output_layer=False, keep_trainable=()):
    """Make scale/shift adaptation the only change the generator may undergo.

    Batch statistics adaptation (Noguchi & Harada, 2019): every generator
    weight is frozen except the normalisation layers' scale and shift (their
    moving statistics follow the target data as usual), and, in a model built
    with ``modulated_kernels=True`` (`scale_shift_target`), the AdaFM-style
    per-channel scale and shift of each hidden transposed convolution's frozen
    kernel (Zhao et al., 2020). That is the published method; with
    ``output_layer=True`` (our addition, off by default) the output layer also
    trains whole. `keep_trainable` names generator layers to leave trainable
    besides (`scale_shift_target` passes those it adapted to a new channel
    count: frozen, a gray source's output layer could never learn colour). The
    layers are those the model declares (`scale_shift_layers`; a model without
    scale/shift is a one-line error naming it).
    The discriminator is left as it is (combine with Freeze-D if wanted).

    Returns:
        the `FreezeSummary` of the model.
    """
    trained = set(model.scale_shift_layers(output_layer)) | set(keep_trainable)  # none declared: one-line error
    frozen = []
    for path, layer in layer_paths(model, model.generator.name):
        keep = path.split("/")[1] in trained
        layer.trainable = keep
        if not keep:
            frozen.append(path)
        elif getattr(layer, "modulates_kernel", False):  # AdaFM's / AdAM's modulated kernels: W stays fixed
            layer.kernel.trainable = False
    model.train_function = None
    return FreezeSummary.of(model, frozen)


def scale_shift_target(source, kernels=False, output_layer=False, **overrides):
    """A target built from `source` for scale/shift adaptation: ``(model, report, freeze summary)``.

    Generator layers the report lists as adapted (a new channel count) stay trainable (`adapt_scale_shift`).

    With ``kernels=True`` the target's hidden transposed convolutions are
    `ModulatedConv2DTranspose` layers carrying the source kernels, their
    modulation starting at the identity (scale 1, shift 0), so the target
    first computes exactly what the source did. `fold_modulation` turns the
    adapted model back into a plain one.
    """
    if kernels:
        source.require_method("adafm")
        overrides["modulated_kernels"] = True
    model, report = derive_model(source, **overrides)
    adapted = sorted({path.split("/")[1] for path in report.by_status("adapted")
                      if path.startswith(f"{model.generator.name}/")})
    return model, report, adapt_scale_shift(model, output_layer=output_layer, keep_trainable=adapted)


def fold_modulation(model):
    """The same generator without kernel modulation: a plain model whose kernels are ``scale * W + shift``."""
    if model.family != "gan" or not model.modulated_kernels:
        return model
    plain, _ = derive_model(model, modulated_kernels=False)
    for layer in model.generator.layers:
        if getattr(layer, "modulates_kernel", False):
            plain.generator.get_layer(layer.name).kernel.assign(layer.folded_kernel())
    if model.generator_ema is not None:
        for layer in model.generator_ema.layers:
            if getattr(layer, "modulates_kernel", False):
                plain.generator_ema.get_layer(layer.name).kernel.assign(layer.folded_kernel())
    return plain
