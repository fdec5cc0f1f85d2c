"""TGAN: a generator conditioned on the features a frozen source network extracts from target images."""

import dataclasses

from keras_transfer_gan.tasks.options import option
from keras_transfer_gan.tasks.registry import register_task
from keras_transfer_gan.tasks.step_options import StepOptions
from keras_transfer_gan.tasks.task import Task, source_family


@dataclasses.dataclass
class TGANOptions(StepOptions):
    """TGAN's options (the new generator's size comes from --model_args)."""

    adv_weight: float = option(0.5, "Weight of the adversarial loss against reconstruction (lambda).", minimum=0)


def tgan(source, dataset, epochs=1, steps_per_epoch=None, adv_weight=0.5, latent_dim=32, g_filters=32,
         d_filters=32, learning_rate=None, strategy=None, checkpoint_dir=None, callbacks=(), verbose=0,
         report_to=None, checkpoint_every=None, resume=False, **overrides):
    """TGAN: a generator conditioned on the features a frozen source network extracts from target images.

    The source's feature network (`feature_extractor`) becomes the frozen backbone of a
    `FeatureBackboneGenerator`; only the projection, decoder and discriminator train. `dataset` gives target
    images, which are both the conditioning input and the real examples.
    """
    import tensorflow as tf

    from keras_transfer_gan.registry import build_model
    from keras_transfer_gan.tasks.fitting import announce, check_positive, fit
    from keras_transfer_gan.training import compile_for_training
    from keras_transfer_gan.transfer import FreezeSummary, RecipeResult, transfer_weights
    from keras_transfer_gan.transfer.loading import feature_extractor

    check_positive("tgan", epochs=epochs, steps_per_epoch=steps_per_epoch)
    strategy = strategy or tf.distribute.get_strategy()
    spec = dataset.element_spec
    spec = spec[0] if isinstance(spec, tuple) else spec
    image_size, channels = int(spec.shape[1]), int(spec.shape[-1])
    with strategy.scope():
        backbone = feature_extractor(source)
        if tuple(backbone.input.shape[1:3]) != (image_size, image_size):
            raise ValueError(f"tgan: the source reads {tuple(backbone.input.shape[1:3])} images, "
                             f"the target data is {image_size}x{image_size}")
        model = build_model("feature_generator", backbone=backbone, backbone_weights=None, frozen_blocks=None,
                            adv_weight=adv_weight, latent_dim=latent_dim, image_size=image_size,
                            channels=channels, g_filters=g_filters, d_filters=d_filters, **overrides)
        # The backbone holds the source's weights already: the report lists them copied, the rest new.
        report = transfer_weights({f"generator/{w.path}": w.numpy() for w in model.backbone.weights}, model)
        compile_for_training(model, strategy, learning_rate=learning_rate)
    result = RecipeResult(model, report, FreezeSummary.of(model, [f"generator/{backbone.name}"]))
    announce(report_to, result)
    images = dataset.map(lambda *b: b[0])
    result.history = fit(model, images, epochs, strategy, checkpoint_dir, callbacks, verbose, steps_per_epoch,
                         checkpoint_every, resume)
    return result


@register_task
class TGAN(Task):
    name = "tgan"
    description = "a new generator on the source's frozen features (any image model with a feature network)"
    options_class = TGANOptions

    def accepts(self, source):
        if source_family(source) == "text" or getattr(source, "generates", None) == "text":
            return "needs an image model (its feature network), got a text model"
        if source_family(source) is not None and not source.implements("feature_network"):
            return f"{type(source).__name__} declares no feature network"
        return None

    def run(self, source, context, options):
        import numpy as np

        from keras_transfer_gan.data import load_dataset

        batch_size = context.batch_size_for(options)
        data = load_dataset(context.dataset, repeat=options.steps is not None,
                            **context.data_settings(source, batch_size=batch_size))
        conditions = np.concatenate([b.numpy() for b in data.take(-(-64 // batch_size))])[:64]
        model_args = {"adv_weight": options.adv_weight, **context.model_args}
        return tgan(source, data, epochs=context.epochs_for(options), learning_rate=context.lr, callbacks=context.callbacks(conditions), verbose=context.verbose,
                    report_to=context.report_to, **context.trainer_settings(options), **model_args)

    def sample_settings(self, options):
        return None  # the generator needs conditioning images: the sample grids are written during training
