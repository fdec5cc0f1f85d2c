"""Text transfer: a character model trained on a source corpus, adapted to a target corpus."""

import dataclasses

from keras_transfer_gan.tasks.options import option
from keras_transfer_gan.tasks.registry import register_task
from keras_transfer_gan.tasks.step_options import StepOptions
from keras_transfer_gan.tasks.task import Task, source_family
from keras_transfer_gan.tasks.trgan import _pair

#: The share of a text corpus held out (its end) for the perplexity the text task reports.
TEXT_HELD_OUT = 0.1


@dataclasses.dataclass
class TextOptions(StepOptions):
    """The text task's options (--dataset is the target corpus)."""

    steps: int = option(500, "Train this many steps, in blocks of --sample_every (perplexity after each).",
                        minimum=1)
    seq_len: int = option(64, "Characters per training window.", minimum=1)
    freeze_embedding: bool = option(False, "Keep the embedding as transferred.")
    freeze_first_lstm: bool = option(False, "Keep the first LSTM layer as transferred.")
    l2_sp: tuple = option(None, "L2-SP towards the transferred weights: 'alpha,beta'.", parse=_pair,
                          metavar="alpha,beta")
    prompt: str = option("The ", "The text the written sample continues.")
    length: int = option(400, "Characters of the written sample.", minimum=1)
    temperature: float = option(0.8, "Sampling temperature of the written sample (0: most likely).", minimum=0)


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
        freeze_embedding, freeze_first_lstm: bool. Keep the embedding / the first LSTM layer as transferred
            (the model's ``embedding`` and ``first_lstm`` layer groups).
        l2_sp: None or ``(alpha, beta)``: L2-SP towards the transferred starting point (the carried weights;
            a character new to the target is pulled towards its own initial row).
        held_out: str or None. Target text not in `corpus`, for the perplexity curve.
        learning_rate, seed, strategy, checkpoint_dir, checkpoint_every, resume, callbacks, verbose, report_to:
            as for `trgan`.

    Returns:
        A `RecipeResult`; ``extra["perplexity"]`` is the held-out curve (``[{"step", "perplexity"}]``).
    """
    import tensorflow as tf

    from keras_transfer_gan.data import Vocabulary, text_dataset
    from keras_transfer_gan.tasks.fitting import announce, check_positive, fit, source_model
    from keras_transfer_gan.training import HeldOutPerplexity, compile_for_training
    from keras_transfer_gan.transfer import L2SP, FreezeSummary, RecipeResult, derive_model, freeze, named_weights

    check_positive("text", steps=steps, eval_every=eval_every, seq_len=seq_len, batch_size=batch_size)
    if steps % eval_every:
        raise ValueError(f"text: steps ({steps}) must be a multiple of eval_every ({eval_every})")
    source = source_model(source)
    if source_family(source) != "text":
        raise ValueError(f"text: the source must be a character model, got {type(source).__name__}")
    if not isinstance(corpus, str) or not corpus:
        raise ValueError("text: corpus must be a non-empty string (load_text(...) gives one)")
    vocabulary = Vocabulary.from_text(corpus)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model, report = derive_model(source, vocabulary=vocabulary, seed=seed)
        changed = []
        for group, on in (("embedding", freeze_embedding), ("first_lstm", freeze_first_lstm)):
            if on:
                changed += freeze(model, pattern=model.layer_group(group)).changed
        penalty = []
        if l2_sp is not None:  # the carried weights are the reference (vocabulary rows moved by character)
            penalty = [L2SP({k: v.numpy() for k, v in named_weights(model).items()}, *l2_sp)]
        compile_for_training(model, strategy, learning_rate=learning_rate, regularizers=penalty)
    result = RecipeResult(model, report, FreezeSummary.of(model, changed) if changed else None)
    announce(report_to, result)
    windows = (len(corpus) - 1) // seq_len  # a small corpus: every window in each batch
    data = text_dataset(corpus, vocabulary, seq_len=seq_len, batch_size=min(batch_size, max(windows, 1)),
                        seed=seed).repeat()
    tracker = HeldOutPerplexity(held_out, seq_len) if held_out else None
    callbacks = list(callbacks) + ([tracker] if tracker else [])
    result.history = fit(model, data, steps // eval_every, strategy, checkpoint_dir, callbacks, verbose, eval_every,
                         checkpoint_every, resume)
    if tracker is not None:
        result.extra["perplexity"] = tracker.history
    return result


@register_task
class Text(Task):
    name = "text"
    description = "a character model on a new corpus (--dataset is the corpus; vocabulary carried by character)"
    options_class = TextOptions
    samples = "text"

    def accepts(self, source):
        return None if source_family(source) == "text" else f"needs a character model, got {type(source).__name__}"

    def run(self, source, context, options):
        from keras_transfer_gan.data import load_text

        corpus = load_text(context.dataset, data_dir=context.data_dir)
        cut = int(len(corpus) * (1.0 - TEXT_HELD_OUT))
        settings = context.trainer_settings(options)
        settings.pop("steps_per_epoch")
        return text(source, corpus[:cut], steps=options.steps, eval_every=options.block, seq_len=options.seq_len,
                    batch_size=context.batch_size_for(options), freeze_embedding=options.freeze_embedding,
                    freeze_first_lstm=options.freeze_first_lstm, l2_sp=options.l2_sp, held_out=corpus[cut:],
                    learning_rate=context.lr, seed=context.seed, report_to=context.report_to,
                    verbose=context.verbose, callbacks=context.callbacks()[1:], **settings)

    def sample_settings(self, options):
        return options.length, options.prompt, {"temperature": options.temperature}

    def result_lines(self, result):
        curve = result.extra.get("perplexity") or []
        return ["held-out perplexity: " + ", ".join(f"{p['perplexity']:.2f} (step {p['step']})" for p in curve)]
