"""Transfer recipes: TrGAN, TGAN, CTGAN, classifier fine-tuning and generator-augmented classifiers.

Each recipe takes a source (zoo name, file or Keras model) and batched target
data, builds the target model, copies what transfers, freezes what stays,
trains with a `Trainer` and returns a `RecipeResult`. With
``report_to=print`` the transfer report and freeze summary are printed before
training starts (what `ktg transfer` does).

Example:
>>> data = load_dataset("digits_m", image_size=32, batch_size=32, limit=100)
>>> result = trgan("dcgan_digits", data, epochs=20, channels=3, freeze_d=2, augment="diffaugment")
>>> result.model.generate(16)
"""

import keras
import numpy as np
import tensorflow as tf

from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.registry import build_model
from keras_transfer_gan.data import Vocabulary, text_dataset
from keras_transfer_gan.training import HeldOutPerplexity, Trainer, compile_for_training
from keras_transfer_gan.transfer.adaptation import (
    FreezeSummary,
    carry_weights,
    derive_model,
    fold_modulation,
    freeze,
    freeze_discriminator_blocks,
    named_weights,
    scale_shift_target,
    transfer_weights,
    unfreeze,
)
from keras_transfer_gan.transfer.augmentation import ADA, DiffAugment
from keras_transfer_gan.transfer.loading import load_pretrained
from keras_transfer_gan.transfer.recipe_result import RecipeResult
from keras_transfer_gan.transfer.regularizers import CDC, EWC, L2SP
from keras_transfer_gan.utils.checks import check_positive_int
from keras_transfer_gan.utils.images import match_input

RECIPES = ("trgan", "tgan", "ctgan", "classifier", "augment", "text")
AUGMENTS = ("none", "diffaugment", "ada")


def _source_model(source):
    return source if isinstance(source, keras.Model) else load_pretrained(source)


def make_augment(augment):
    """``"diffaugment"`` / ``"ada"`` / ``"none"`` / None / a callable -> the `GAN.compile` augment."""
    if augment is None or augment == "none":
        return None
    if augment == "diffaugment":
        return DiffAugment()
    if augment == "ada":
        return ADA()
    if callable(augment):
        return augment
    raise ValueError(f"augment must be one of {', '.join(AUGMENTS)} or a callable, got {augment!r}")


def _announce(report_to, result):
    if report_to is not None:
        report_to(result.describe())


def _fit(model, dataset, epochs, steps_per_epoch, strategy, checkpoint_dir, callbacks, verbose, checkpoint_every=None,
         resume=False):
    trainer = Trainer(model, strategy, checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every,
                      callbacks=callbacks, verbose=verbose)
    return trainer.fit(dataset, epochs=epochs, steps_per_epoch=steps_per_epoch, resume=resume)


def _check_positive(who, **values):
    for name, value in values.items():
        check_positive_int(value, name, who, allow_none=True)


def _family(model):
    return model.family if isinstance(model, Architecture) else None


SCALE_SHIFT = ("none", "bn", "adafm")


def trgan(source, dataset, epochs=1, steps_per_epoch=None, freeze_d=0, augment=None, l2_sp=None, cdc=None, ewc=None,
          scale_shift=None, keep_best=None, learning_rate=None, strategy=None, checkpoint_dir=None, callbacks=(),
          verbose=0, report_to=None, checkpoint_every=None, resume=False, **overrides):
    """TrGAN (Wang et al., 2018): start G and D from a source GAN and fine-tune both on the target data.

    The few-shot methods combine with it: Freeze-D, DiffAugment / ADA, L2-SP,
    CDC, EWC, scale/shift adaptation and best-checkpoint selection.

    Args:
        source: a GAN (zoo name, file or model).
        dataset: batched target images (``(images, labels)`` for a conditional GAN).
        epochs, steps_per_epoch: the training budget.
        freeze_d: int. Freeze D's first k blocks (Freeze-D). Defaults to 0.
        augment: ``"diffaugment"``, ``"ada"``, None or a callable on D's input.
        l2_sp: None or ``(alpha, beta)``: L2-SP towards the source weights.
        cdc: None or float: the weight of a `CDC` term on G's loss (100 is a good start).
        ewc: None or float: the weight of an `EWC` penalty on G's weights (1 is a good start).
        scale_shift: None / ``"none"``, ``"bn"`` (only G's normalisation scale/shift and its output
            layer train) or ``"adafm"`` (and per-channel modulation of G's hidden kernels, folded back
            into a plain model at the end).
        keep_best: None or a `KeepBest` callback (held-out KID at each epoch's end): the run ends with
            the weights of its best evaluation (and may stop early with `patience`).
        learning_rate: float or None (the model's default).
        strategy, checkpoint_dir, checkpoint_every, callbacks, verbose: as for `Trainer`.
        resume: bool. Continue from the latest checkpoint in `checkpoint_dir` (weights, optimizers, step and
            ADA's p; `epochs` is then the run's total).
        report_to: callable receiving the report and freeze summary text before training.
        **overrides: constructor arguments that change (``channels=3``, ``num_classes=5``, ...).
    """
    _check_positive("trgan", epochs=epochs, steps_per_epoch=steps_per_epoch)
    scale_shift = scale_shift or "none"
    if scale_shift not in SCALE_SHIFT:
        raise ValueError(f"scale_shift must be one of {', '.join(SCALE_SHIFT)}, got {scale_shift!r}")
    for name, value in (("cdc", cdc), ("ewc", ewc)):
        if value is not None and (not isinstance(value, (int, float)) or value < 0):
            raise ValueError(f"{name} must be a weight >= 0, got {value!r}")
    source = _source_model(source)
    if _family(source) != "gan":
        raise ValueError(f"trgan: the source must be a GAN, got {type(source).__name__}")
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        changed = []
        if scale_shift != "none":
            model, report, summary = scale_shift_target(source, kernels=scale_shift == "adafm", **overrides)
            changed += summary.changed
        else:
            model, report = derive_model(source, **overrides)
        if freeze_d:  # layers adapted to new channels stay trainable: frozen, they would leave D colour-blind
            changed += freeze_discriminator_blocks(model, freeze_d, keep_trainable=report).changed
        penalty, regularizers = None, []
        if l2_sp is not None:
            alpha, beta = l2_sp
            penalty = L2SP({k: v.numpy() for k, v in named_weights(source).items()}, alpha=alpha, beta=beta)
        if cdc:
            regularizers.append(CDC(source, weight=cdc))
        if ewc:
            regularizers.append(EWC(source, weight=ewc))
        compile_for_training(model, strategy, learning_rate=learning_rate, augment=make_augment(augment),
                             weight_penalty=penalty, regularizers=regularizers)
    summary = FreezeSummary.of(model, changed) if changed else None
    result = RecipeResult(model, report, summary)
    _announce(report_to, result)
    callbacks = list(callbacks) + ([keep_best] if keep_best is not None else [])
    result.history = _fit(model, dataset, epochs, steps_per_epoch, strategy, checkpoint_dir, callbacks, verbose,
                          checkpoint_every, resume)
    if keep_best is not None:
        result.extra.update(best_step=keep_best.best_step, best_kid=keep_best.best_kid,
                            held_out_kid=keep_best.history, stopped_early=keep_best.stopped_early)
    result.model = fold_modulation(model)
    return result


def feature_extractor(source):
    """A frozen copy of the source's feature network, named ``backbone``.

    An architecture gives its declared `feature_network` (a classifier its
    backbone's pooled features, a GAN its discriminator body up to
    ``d_flatten``); any other Keras model is used whole.
    """
    source = _source_model(source)
    if isinstance(source, Architecture):
        body = source.feature_network()
    elif isinstance(source, keras.Model):
        body = source
    else:
        raise ValueError(f"cannot take features from a {type(source).__name__}")
    copy = keras.models.clone_model(body)
    copy.set_weights(body.get_weights())
    extractor = keras.Model(copy.inputs[0], copy.outputs[0], name="backbone")
    extractor.trainable = False
    return extractor


def tgan(source, dataset, epochs=1, steps_per_epoch=None, adv_weight=0.5, latent_dim=32, g_filters=32,
         d_filters=32, learning_rate=None, strategy=None, checkpoint_dir=None, callbacks=(), verbose=0,
         report_to=None, checkpoint_every=None, resume=False, **overrides):
    """TGAN: a generator conditioned on the features a frozen source network extracts from target images.

    The source's feature network (`feature_extractor`) becomes the frozen
    backbone of a `FeatureBackboneGenerator`; only the projection, decoder and
    discriminator train. `dataset` gives target images, which are both the
    conditioning input and the real examples.
    """
    _check_positive("tgan", epochs=epochs, steps_per_epoch=steps_per_epoch)
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
    _announce(report_to, result)
    images = dataset.map(lambda *b: b[0])
    result.history = _fit(model, images, epochs, steps_per_epoch, strategy, checkpoint_dir, callbacks, verbose,
                          checkpoint_every, resume)
    return result


def _to_classifier_input(images, classifier):
    """Images resized and converted to the classifier's input shape."""
    return match_input(images, classifier.image_size, classifier.channels).numpy()


def pseudo_label(classifier, images, min_confidence=0.0):
    """``(labels, confidence, keep)``: the classifier's argmax classes and top probabilities for images of any
    size/channels (an `ImageClassifier` or an ACGAN: anything declaring `class_probabilities`)."""
    classifier = _source_model(classifier)
    if _family(classifier) is None:
        raise ValueError(f"pseudo_label: needs an ImageClassifier or an ACGAN, got {type(classifier).__name__}")
    probabilities = np.asarray(classifier.class_probabilities(_to_classifier_input(images, classifier)))
    labels = probabilities.argmax(-1).astype(np.int32)
    confidence = probabilities.max(-1)
    return labels, confidence, confidence >= min_confidence


def ctgan(classifier, images, epochs=1, batch_size=32, min_confidence=0.0, generator_source=None,
          model="acgan", model_args=None, learning_rate=None, seed=0, strategy=None, checkpoint_dir=None,
          callbacks=(), verbose=0, report_to=None, steps_per_epoch=None, checkpoint_every=None, resume=False):
    """CTGAN: a source-trained classifier pseudo-labels the target images; a conditional GAN trains on them.

    Args:
        classifier: the source classifier (an `ImageClassifier` or an ACGAN; zoo name, file or model).
        images: target images, float32 ``(n, size, size, channels)`` in [-1, 1].
        min_confidence: drop images whose top probability is below this.
        generator_source: None (a fresh conditional GAN) or a conditional GAN
            to start from (TrGAN-style, heads rebuilt to the target).
        model: registry name of the fresh conditional GAN. Defaults to ``"acgan"``.
        model_args: dict of its constructor arguments.
    """
    _check_positive("ctgan", epochs=epochs, batch_size=batch_size)
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"ctgan: images must be shaped (n, size, size, 1 or 3), got {images.shape}")
    classifier = _source_model(classifier)
    labels, confidence, keep = pseudo_label(classifier, images, min_confidence)
    if keep.sum() < batch_size:
        raise ValueError(f"ctgan: only {int(keep.sum())} images reach confidence {min_confidence}, "
                         f"fewer than a batch of {batch_size}")
    images, labels = images[keep], labels[keep]
    num_classes = classifier.num_classes
    strategy = strategy or tf.distribute.get_strategy()
    target_args = dict(image_size=images.shape[1], channels=images.shape[-1], num_classes=num_classes)
    with strategy.scope():
        if generator_source is not None:
            source = _source_model(generator_source)
            if _family(source) != "gan" or source.conditions != "labels":
                raise ValueError(f"ctgan: generator_source must be a conditional GAN, got {type(source).__name__}")
            gan, report = derive_model(source, **target_args)
        else:
            gan, report = build_model(model, seed=seed, **{**target_args, **(model_args or {})}), None
        compile_for_training(gan, strategy, learning_rate=learning_rate)
    order = np.random.default_rng(seed).permutation(len(images))
    dataset = tf.data.Dataset.from_tensor_slices((images[order], labels[order])).batch(batch_size, drop_remainder=True)
    result = RecipeResult(gan, report, None, extra={
        "pseudo_label_counts": np.bincount(labels, minlength=num_classes).tolist(),
        "kept": int(keep.sum()), "mean_confidence": float(confidence[keep].mean()),
    })
    _announce(report_to, result)
    if steps_per_epoch is not None:
        dataset = dataset.repeat()
    result.history = _fit(gan, dataset, epochs, steps_per_epoch, strategy, checkpoint_dir, callbacks, verbose,
                          checkpoint_every, resume)
    return result


def finetune_classifier(source, dataset, num_classes, head_epochs=1, finetune_epochs=1, learning_rate=1e-3,
                        finetune_learning_rate=1e-4, validation_data=None, strategy=None, verbose=0,
                        report_to=None, **overrides):
    """Classifier fine-tuning: pretrained backbone, new head; train the head frozen, then unfreeze all.

    Args:
        source: an `ImageClassifier` (its backbone transfers, the head is
            new) or a GAN (its discriminator body becomes the backbone).
        dataset: batched ``(images, labels)``.
        num_classes: int. Classes of the target task.
        head_epochs, finetune_epochs: epochs of each phase (finetune 0 skips phase 2).
        learning_rate, finetune_learning_rate: of each phase.
        validation_data: batched ``(images, labels)``; accuracies go to ``extra``.
        **overrides: other `ImageClassifier` arguments (``channels=3``, ``dropout``, ...).
    """
    _check_positive("finetune_classifier", head_epochs=head_epochs, num_classes=num_classes)
    if finetune_epochs < 0:
        raise ValueError(f"finetune_epochs must be >= 0, got {finetune_epochs!r}")
    source = _source_model(source)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        if _family(source) == "classifier":
            config = {**source.get_config(), "num_classes": num_classes, **overrides}
            model = type(source).from_config(config)
            report = carry_weights(source, model, dont_load=("classifier_head",))
        elif _family(source) == "gan":
            backbone = feature_extractor(source)
            backbone.trainable = True
            arrays = {f"backbone/{w.path}": w.numpy() for w in backbone.weights}
            args = {"image_size": source.image_size, "channels": source.channels, **overrides}
            if (args["image_size"], args["channels"]) != (source.image_size, source.channels):
                raise ValueError(f"finetune_classifier: the source discriminator reads {source.image_size}x"
                                 f"{source.image_size}x{source.channels} images")
            model = build_model("classifier", num_classes=num_classes, backbone=backbone, **args)
            report = transfer_weights(arrays, model)
        else:
            raise ValueError(f"finetune_classifier: the source must be an ImageClassifier or a GAN, "
                             f"got {type(source).__name__}")
        summary = freeze(model, pattern="backbone/*")
        compile_for_training(model, strategy, learning_rate=learning_rate)
    result = RecipeResult(model, report, summary)
    _announce(report_to, result)
    history = {f"head/{k}": v for k, v in _fit(model, dataset, head_epochs, None, strategy, None, (), verbose).items()}
    if validation_data is not None:
        result.extra["head_accuracy"] = float(model.evaluate(validation_data, verbose=0, return_dict=True)["accuracy"])
    if finetune_epochs:
        with strategy.scope():
            result.freeze = unfreeze(model, pattern="backbone/*")
            model.optimizer.learning_rate.assign(finetune_learning_rate)
        phase = _fit(model, dataset, finetune_epochs, None, strategy, None, (), verbose)
        history.update({f"finetune/{k}": v for k, v in phase.items()})
        if validation_data is not None:
            result.extra["finetune_accuracy"] = float(
                model.evaluate(validation_data, verbose=0, return_dict=True)["accuracy"])
    result.history = history
    return result


def augment_with_generator(images, labels, generator, per_class, seed=0):
    """The labelled set plus `per_class` generated images of each class (shuffled).

    `generator` is a conditional model with ``generate(n, labels=..., seed=...)``
    (ACGAN, projection cGAN or CVAE), producing images shaped like `images`.
    """
    images, labels = np.asarray(images, np.float32), np.asarray(labels, np.int32)
    check_positive_int(per_class, "per_class", "augment_with_generator", minimum=0)
    if not isinstance(generator, Architecture) or generator.conditions != "labels":
        raise ValueError(f"augment_with_generator: {type(generator).__name__} is not a conditional generator")
    num_classes = generator.num_classes
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"augment_with_generator: label {labels.max()} is out of range for {num_classes} classes")
    fake_labels = np.repeat(np.arange(num_classes, dtype=np.int32), per_class)
    fake = np.asarray(generator.sample(len(fake_labels), conditions=fake_labels, seed=seed)) if per_class else \
        np.zeros((0, *images.shape[1:]), np.float32)
    if fake.shape[1:] != images.shape[1:]:
        raise ValueError(f"augment_with_generator: generated images are {fake.shape[1:]}, the set is {images.shape[1:]}")
    all_images = np.concatenate([images, fake.astype(np.float32)])
    all_labels = np.concatenate([labels, fake_labels])
    order = np.random.default_rng(seed).permutation(len(all_images))
    return all_images[order], all_labels[order]


def augmented_classifier(generator, images, labels, per_class, epochs=1, batch_size=32, validation_data=None,
                         classifier_args=None, seed=0, strategy=None, verbose=0):
    """Train a classifier on a small labelled set plus samples from a (transferred) conditional generator.

    Returns a `RecipeResult` whose ``extra`` holds the training-set sizes and,
    with `validation_data`, the accuracy reached.
    """
    _check_positive("augmented_classifier", epochs=epochs, batch_size=batch_size)
    generator = _source_model(generator)
    x, y = augment_with_generator(images, labels, generator, per_class, seed=seed)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = build_model("classifier", num_classes=generator.num_classes, image_size=x.shape[1],
                             channels=x.shape[-1], seed=seed, **(classifier_args or {}))
        compile_for_training(model, strategy)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size, drop_remainder=len(x) >= batch_size)
    result = RecipeResult(model, extra={"real": int(len(images)), "generated": int(len(x) - len(images))})
    result.history = _fit(model, dataset, epochs, None, strategy, None, (), verbose)
    if validation_data is not None:
        result.extra["accuracy"] = float(model.evaluate(validation_data, verbose=0, return_dict=True)["accuracy"])
    return result


def text(source, corpus, steps=500, eval_every=100, seq_len=64, batch_size=32, freeze_embedding=False,
         freeze_first_lstm=False, l2_sp=None, held_out=None, learning_rate=None, seed=0, strategy=None,
         checkpoint_dir=None, checkpoint_every=None, resume=False, callbacks=(), verbose=0, report_to=None):
    """Text transfer: a character model trained on a source corpus, adapted to a target corpus.

    The target vocabulary is built from `corpus`; the source's embedding rows and softmax columns are carried
    **by character** for the characters both vocabularies hold (new characters keep their initialisation;
    the report lists them); the LSTMs carry over whole. Training runs `steps` steps in blocks of
    `eval_every`, measuring the perplexity of `held_out` text (never trained on) after each block.

    Args:
        source: a character model (zoo name such as ``"charlstm_pydocs"``, file or model).
        corpus: str. The target text itself.
        steps, eval_every: the budget, in steps, and the measuring interval.
        seq_len, batch_size: training windows.
        freeze_embedding, freeze_first_lstm: bool. Keep the embedding / the first LSTM layer as transferred.
        l2_sp: None or ``(alpha, beta)``: L2-SP towards the transferred starting point (the carried weights;
            a character new to the target is pulled towards its own initial row).
        held_out: str or None. Target text not in `corpus`, for the perplexity curve.
        learning_rate, seed, strategy, checkpoint_dir, checkpoint_every, resume, callbacks, verbose, report_to:
            as for `trgan`.

    Returns:
        A `RecipeResult`; ``extra["perplexity"]`` is the held-out curve (``[{"step", "perplexity"}]``).
    """
    _check_positive("text", steps=steps, eval_every=eval_every, seq_len=seq_len, batch_size=batch_size)
    if steps % eval_every:
        raise ValueError(f"text: steps ({steps}) must be a multiple of eval_every ({eval_every})")
    source = _source_model(source)
    if _family(source) != "text":
        raise ValueError(f"text: the source must be a character model, got {type(source).__name__}")
    if not isinstance(corpus, str) or not corpus:
        raise ValueError("text: corpus must be a non-empty string (load_text(...) gives one)")
    vocabulary = Vocabulary.from_text(corpus)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model, report = derive_model(source, vocabulary=vocabulary, seed=seed)
        changed = []
        if freeze_embedding:
            changed += freeze(model, pattern="network/embedding").changed
        if freeze_first_lstm:
            changed += freeze(model, pattern="network/lstm_1").changed
        penalty = []
        if l2_sp is not None:  # the carried weights are the reference (vocabulary rows moved by character)
            penalty = [L2SP({k: v.numpy() for k, v in named_weights(model).items()}, *l2_sp)]
        compile_for_training(model, strategy, learning_rate=learning_rate, regularizers=penalty)
    result = RecipeResult(model, report, FreezeSummary.of(model, changed) if changed else None)
    _announce(report_to, result)
    windows = (len(corpus) - 1) // seq_len  # a small corpus: every window in each batch
    data = text_dataset(corpus, vocabulary, seq_len=seq_len, batch_size=min(batch_size, max(windows, 1)),
                        seed=seed).repeat()
    tracker = HeldOutPerplexity(held_out, seq_len) if held_out else None
    callbacks = list(callbacks) + ([tracker] if tracker else [])
    result.history = _fit(model, data, steps // eval_every, eval_every, strategy, checkpoint_dir, callbacks, verbose,
                          checkpoint_every, resume)
    if tracker is not None:
        result.extra["perplexity"] = tracker.history
    return result
