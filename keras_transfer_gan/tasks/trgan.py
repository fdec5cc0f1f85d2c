"""TrGAN (Wang et al., 2018): start G and D from a source GAN and fine-tune both, with the few-shot methods."""

import dataclasses

from keras_transfer_gan.tasks.registry import register_task
from keras_transfer_gan.tasks.options import option
from keras_transfer_gan.tasks.step_options import StepOptions
from keras_transfer_gan.tasks.task import Task, source_family

AUGMENTS = ("none", "diffaugment", "ada")  # transfer.augmentation.AUGMENTS (read here without TensorFlow)
SCALE_SHIFT = ("none", "bn", "adafm")


def _pair(text):
    alpha, beta = (float(v) for v in text.split(","))
    return alpha, beta


@dataclasses.dataclass
class TrGANOptions(StepOptions):
    """TrGAN's options: the few-shot methods and best-checkpoint selection."""

    freeze_d: int = option(0, "Freeze the discriminator's first K blocks (Freeze-D).", minimum=0)
    freeze_g: int = option(0, "Freeze the generator's first K blocks (FreezeG; a style-based generator's first "
                           "block holds its mapping network).", minimum=0)
    augment: str = option("none", "Augmentation on D's input.", choices=AUGMENTS)
    l2_sp: tuple = option(None, "L2-SP towards the source weights: 'alpha,beta'.", parse=_pair,
                          metavar="alpha,beta")
    cdc: float = option(None, "Weight of CDC (cross-domain distance consistency) on G's loss, e.g. 1000 (the authors').", minimum=0)
    cdc_anchors: int = option(10, "--cdc: anchor latents, one per training image in the paper (image-level D near "
                              "them every 4th step, patch-level D otherwise); 0: distance consistency alone.", minimum=0)
    ewc: float = option(None, "Weight of EWC (Fisher-weighted pull to the source) on G's weights, e.g. 1.",
                        minimum=0)
    scale_shift: str = option("none", "Train only G's normalisation scale/shift (bn, Noguchi & Harada 2019), plus "
                              "per-channel kernel modulation (adafm, Zhao et al. 2020); layers adapted to new "
                              "channels stay trainable.", choices=SCALE_SHIFT)
    latent_adaptor: bool = option(False, "Train only an affine map of G's latent code w (GenDA's latent adaptor; "
                                  "a style-based source), D as usual.")
    scale_shift_output: bool = option(False, "--scale_shift: also train G's output layer whole (not in the papers).")
    keep_best: bool = option(False, "End with the weights of the block with the lowest KID against held-out "
                             "images of the train split (outside --limit's subset).")
    held_out: int = option(500, "--keep_best: held-out images for the KID.", minimum=1)
    patience: int = option(None, "--keep_best: stop after this many blocks without improvement.", minimum=1)
    extractor: str = option("auto", "--keep_best: feature extractor (auto: the dataset's zoo evaluator).")


def trgan(source, dataset, epochs=1, steps_per_epoch=None, freeze_d=0, augment=None, l2_sp=None, cdc=None, cdc_anchors=10,
          ewc=None, freeze_g=0, latent_adaptor=False, scale_shift=None, scale_shift_output=False, keep_best=None, learning_rate=None, strategy=None, checkpoint_dir=None, callbacks=(),
          verbose=0, report_to=None, checkpoint_every=None, resume=False, **overrides):
    """TrGAN (Wang et al., 2018): start G and D from a source GAN and fine-tune both on the target data.

    The few-shot methods combine with it: Freeze-D, DiffAugment / ADA, L2-SP, CDC, EWC, scale/shift
    adaptation and best-checkpoint selection; each must be among the source's `few_shot_methods`.

    Args:
        source: a GAN (zoo name, file or model).
        dataset: batched target images (``(images, labels)`` for a conditional GAN).
        epochs, steps_per_epoch: the training budget.
        freeze_d: int. Freeze D's first k blocks (Freeze-D). Defaults to 0.
        freeze_g: int. Freeze G's first k blocks (FreezeG). Defaults to 0.
        latent_adaptor: bool. Train only G's latent adaptor (GenDA; `latent_adaptor_target`). Defaults to False.
        augment: ``"diffaugment"``, ``"ada"``, None or a callable on D's input.
        l2_sp: None or ``(alpha, beta)``: L2-SP towards the source weights.
        cdc: None or float: the weight of a `CDC` term on G's loss (the authors' 1000).
        cdc_anchors: int: CDC's anchor latents (one per training image; 0: no anchor regions or patch-level D).
        ewc: None or float: the weight of an `EWC` penalty on G's weights (1 is a good start).
        scale_shift: None / ``"none"``, ``"bn"`` (only G's normalisation scale/shift train, and layers adapted
            to new channels) or ``"adafm"`` (and per-channel modulation of G's hidden kernels, folded back
            into a plain model at the end).
        scale_shift_output: bool. With `scale_shift`, also train G's output layer whole.
        keep_best: None or a `KeepBest` callback (held-out KID at each epoch's end): the run ends with
            the weights of its best evaluation (and may stop early with `patience`).
        learning_rate: float or None (the model's default).
        strategy, checkpoint_dir, checkpoint_every, callbacks, verbose: as for `Trainer`.
        resume: bool. Continue from the latest checkpoint in `checkpoint_dir` (weights, optimizers, step and
            ADA's p; `epochs` is then the run's total).
        report_to: callable receiving the report and freeze summary text before training.
        **overrides: constructor arguments that change (``channels=3``, ``num_classes=5``, ...).
    """
    import tensorflow as tf

    from keras_transfer_gan.tasks.fitting import check_positive, source_model, train_target
    from keras_transfer_gan.transfer import fold_modulation

    check_positive("trgan", epochs=epochs, steps_per_epoch=steps_per_epoch)
    options = TrGANOptions(freeze_d=freeze_d, freeze_g=freeze_g, latent_adaptor=latent_adaptor, augment=augment if isinstance(augment, str) else "none", l2_sp=l2_sp,
                           cdc=cdc, cdc_anchors=cdc_anchors, ewc=ewc, scale_shift=scale_shift or "none", scale_shift_output=scale_shift_output)
    source = source_model(source)
    TrGAN().check(source)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model, report, changed = build_trgan_target(source, options, augment=augment, learning_rate=learning_rate,
                                              **overrides)
    result = train_target(model, report, changed, dataset, epochs, strategy, checkpoint_dir, callbacks, verbose,
                          steps_per_epoch, checkpoint_every, resume, keep_best, report_to)
    result.model = fold_modulation(model)
    return result


def build_trgan_target(source, options, augment=None, learning_rate=None, ewc_seed=0, **overrides):
    """TrGAN's target, compiled: the source's architecture with `overrides` (heads carried), the few-shot
    methods of `options` applied (each must be among the source's `few_shot_methods`). Call it inside the
    strategy's scope. `augment` may be a name or a callable (it defaults to ``options.augment``).

    Returns:
        ``(model, TransferReport, [layer paths frozen or made trainable])``.
    """
    from keras_transfer_gan.training import compile_for_training
    from keras_transfer_gan.transfer import (CDC, EWC, L2SP, derive_model, freeze_discriminator_blocks,
                                             freeze_generator_blocks, latent_adaptor_target,
                                             named_weights, scale_shift_target)
    from keras_transfer_gan.transfer.augmentation import make_augment

    for method in _methods(options):
        source.require_method(method)
    changed = []
    if options.latent_adaptor and options.scale_shift != "none":
        raise ValueError("trgan: choose --latent_adaptor or --scale_shift, not both")
    if options.latent_adaptor:
        model, report, summary = latent_adaptor_target(source, **overrides)
        changed += summary.changed
    elif options.scale_shift != "none":
        model, report, summary = scale_shift_target(source, kernels=options.scale_shift == "adafm",
                                                    output_layer=options.scale_shift_output, **overrides)
        changed += summary.changed
    else:
        model, report = derive_model(source, **overrides)
    if options.freeze_d:  # layers adapted to new channels stay trainable: frozen, they would leave D colour-blind
        changed += freeze_discriminator_blocks(model, options.freeze_d, keep_trainable=report).changed
    if options.freeze_g:
        changed += freeze_generator_blocks(model, options.freeze_g, keep_trainable=report).changed
    penalty = None
    if options.l2_sp is not None:
        penalty = L2SP({k: v.numpy() for k, v in named_weights(source).items()}, *options.l2_sp)
    regularizers = ([CDC(source, weight=options.cdc, anchors=options.cdc_anchors)] if options.cdc else []) + \
        ([EWC(source, weight=options.ewc, seed=ewc_seed)] if options.ewc else [])
    compile_for_training(model, learning_rate=learning_rate, augment=make_augment(augment or options.augment),
                         weight_penalty=penalty, regularizers=regularizers)
    return model, report, changed


def _methods(options):
    """The few-shot methods `options` switch on, by `Architecture.few_shot_methods` name."""
    on = {"freeze_d": options.freeze_d, "freeze_g": options.freeze_g, "l2_sp": options.l2_sp is not None,
          "cdc": options.cdc, "ewc": options.ewc,
          "scale_shift": options.scale_shift != "none", "adafm": options.scale_shift == "adafm",
          "latent_adaptor": options.latent_adaptor}
    return [name for name, value in on.items() if value]


def keep_best_selector(context, options, image_size, channels):
    """A `KeepBest` on held-out images of the train split outside the `limit` subset."""
    from keras_transfer_gan.data import few_shot_split
    from keras_transfer_gan.metrics import extractor_for
    from keras_transfer_gan.training import KeepBest

    if not context.limit:
        raise ValueError("--keep_best needs --limit: the held-out images are the rest of the train split")
    _, images = few_shot_split(context.dataset, context.limit, options.held_out, image_size, channels, context.seed,
                               data_dir=context.data_dir)
    if len(images) < 4:
        raise ValueError(f"--keep_best: only {len(images)} images of {context.dataset!r} are outside the training "
                         "subset (lower --limit)")
    extractor = extractor_for(context.dataset) if options.extractor == "auto" else options.extractor
    return KeepBest(images, extractor, patience=options.patience, seed=context.seed)


@register_task
class TrGAN(Task):
    name = "trgan"
    label = "TrGAN"
    description = "fine-tune G and D from a source GAN (with Freeze-D, DiffAugment/ADA, L2-SP, CDC, EWC, scale/shift)"
    options_class = TrGANOptions

    def accepts(self, source):
        return None if source_family(source) == "gan" else f"needs a GAN source, got {type(source).__name__}"

    def build_target(self, source, options, **settings):
        """The compiled target GAN with the few-shot methods of `options` (`build_trgan_target`): what the
        study's arms that start from this task train."""
        return build_trgan_target(source, options, **settings)

    def run(self, source, context, options):
        from keras_transfer_gan.tasks.fitting import target_images

        data, overrides, selector = target_images(source, context, options)
        settings = {k: v for k, v in options.as_dict().items()
                    if k in ("freeze_d", "freeze_g", "latent_adaptor", "augment", "l2_sp", "cdc", "cdc_anchors", "ewc", "scale_shift",
                             "scale_shift_output")}
        return trgan(source, data, epochs=context.epochs_for(options), keep_best=selector, learning_rate=context.lr,
                     callbacks=context.callbacks(), verbose=context.verbose, report_to=context.report_to,
                     **settings, **context.trainer_settings(options), **overrides)
