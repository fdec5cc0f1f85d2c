"""Few-shot fine-tuning of a diffusion model: whole, LoRA or DPMs-ANT's adaptors, with DDPM-PA's pairwise loss."""

import dataclasses

from keras_transfer_gan.tasks.options import option
from keras_transfer_gan.tasks.registry import register_task
from keras_transfer_gan.tasks.step_options import StepOptions
from keras_transfer_gan.tasks.task import Task, source_family


@dataclasses.dataclass
class DiffusionOptions(StepOptions):
    """The diffusion fine-tuning methods and best-checkpoint selection."""

    lora: int = option(0, "Train only LoRA factors of this rank on the denoiser's convolutions and dense layers "
                       "(Keras' enable_lora; merged into the kernels at the end); 0: fine-tune every weight.",
                       minimum=0)
    adapters: int = option(0, "Train only DPMs-ANT adaptors of this width beside the frozen denoiser's blocks; "
                           "0: none.", minimum=0)
    pairwise: float = option(None, "Weight of DDPM-PA's pairwise similarity loss against the frozen source, "
                             "e.g. 1.", minimum=0)
    keep_best: bool = option(False, "End with the weights of the block with the lowest KID against held-out "
                             "images of the train split (outside --limit's subset).")
    held_out: int = option(500, "--keep_best: held-out images for the KID.", minimum=1)
    patience: int = option(None, "--keep_best: stop after this many blocks without improvement.", minimum=1)
    extractor: str = option("auto", "--keep_best: feature extractor (auto: the dataset's zoo evaluator).")

    def __post_init__(self):
        super().__post_init__()
        if self.lora and self.adapters:
            raise ValueError("diffusion: choose --lora or --adapters, not both")


def averaged_start(source):
    """`source`, or a copy whose trained network holds its EMA copy's weights when it keeps one: fine-tuning starts
    from the weights that sample (a released diffusion model is its EMA weights, as diffusers saves one trained
    with ``--use_ema``), not from the last raw step's noisier ones."""
    from keras_transfer_gan.transfer import derive_model

    average, _ = source.ema_pair()
    if average is None:
        return source
    start, _ = derive_model(source)
    start_average, start_network = start.ema_pair()
    start_network.set_weights(start_average.get_weights())
    return start


def build_diffusion_target(source, options, learning_rate=None, **overrides):
    """The compiled target: the source's architecture with `overrides` (heads carried), its trained network and
    EMA both starting from the source's EMA weights (`averaged_start`), LoRA or adaptors per `options` (each among
    the source's `few_shot_methods`), DDPM-PA's loss when `options.pairwise`. Call it inside the strategy's scope.
    ``(model, TransferReport, [layer paths frozen])``."""
    from keras_transfer_gan.training import compile_for_training
    from keras_transfer_gan.transfer import PairwiseSimilarity, adapter_target, derive_model, lora_target

    pairwise = PairwiseSimilarity(source, options.pairwise) if options.pairwise else None
    source = averaged_start(source)
    changed = []
    if options.lora:
        model, report, summary = lora_target(source, rank=options.lora, **overrides)
        changed += summary.changed
    elif options.adapters:
        model, report, summary = adapter_target(source, dim=options.adapters, **overrides)
        changed += summary.changed
    else:
        model, report = derive_model(source, **overrides)
    compile_for_training(model, learning_rate=learning_rate, pairwise=pairwise)
    return model, report, changed


def finetune_diffusion(source, dataset, epochs=1, steps_per_epoch=None, lora=0, adapters=0, pairwise=None,
                       keep_best=None, learning_rate=None, strategy=None, checkpoint_dir=None, callbacks=(), verbose=0,
                       report_to=None, checkpoint_every=None, resume=False, **overrides):
    """Fine-tune a diffusion model (`DDIM`) on few target images: every weight, LoRA factors only (`lora` > 0:
    `lora_target`, merged at the end) or DPMs-ANT's adaptors only (`adapters` > 0: `adapter_target`), with
    DDPM-PA's pairwise similarity loss of weight `pairwise` against the frozen source. The EMA copy samples.

    Args:
        source: a diffusion model (zoo name, file or model).
        dataset: batched target images (``(images, labels)`` for a conditional model).
        keep_best: None or a `KeepBest` callback.
        Others: as `trgan`.

    Returns:
        A `RecipeResult` whose model has LoRA merged into its kernels.
    """
    import tensorflow as tf

    from keras_transfer_gan.tasks.fitting import check_positive, source_model, train_target
    from keras_transfer_gan.transfer import merge_lora

    check_positive("diffusion", epochs=epochs, steps_per_epoch=steps_per_epoch)
    options = DiffusionOptions(lora=lora, adapters=adapters, pairwise=pairwise)
    source = source_model(source)
    Diffusion().check(source)
    for method, on in (("lora", lora), ("adapters", adapters)):
        if on:
            source.require_method(method)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model, report, changed = build_diffusion_target(source, options, learning_rate=learning_rate, **overrides)
    result = train_target(model, report, changed, dataset, epochs, strategy, checkpoint_dir, callbacks, verbose,
                          steps_per_epoch, checkpoint_every, resume, keep_best, report_to)
    result.model = merge_lora(model)
    return result


@register_task
class Diffusion(Task):
    name = "diffusion"
    label = "diffusion fine-tuning"
    description = "fine-tune a diffusion model (whole, LoRA or DPMs-ANT adaptors; DDPM-PA's pairwise loss)"
    options_class = DiffusionOptions

    def accepts(self, source):
        return None if source_family(source) == "diffusion" else \
            f"needs a diffusion source, got {type(source).__name__}"

    def build_target(self, source, options, **settings):
        """The compiled target (`build_diffusion_target`): what the study's diffusion arms train."""
        return build_diffusion_target(source, options, **settings)

    def run(self, source, context, options):
        from keras_transfer_gan.tasks.fitting import target_images

        data, overrides, selector = target_images(source, context, options)
        return finetune_diffusion(source, data, epochs=context.epochs_for(options), lora=options.lora,
                                  adapters=options.adapters, pairwise=options.pairwise, keep_best=selector,
                                  learning_rate=context.lr, callbacks=context.callbacks(), verbose=context.verbose,
                                  report_to=context.report_to, **context.trainer_settings(options), **overrides)
