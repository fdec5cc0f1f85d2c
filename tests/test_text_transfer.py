"""Text transfer: vocabularies carried by character on every path, the text recipe's options, export, the CLI."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model, load_pretrained
from keras_transfer_gan.data import Vocabulary
from keras_transfer_gan.export import export_saved_model, export_tflite
from keras_transfer_gan.metrics import perplexity
from keras_transfer_gan import tasks as recipes
from keras_transfer_gan.transfer import derive_model, named_weights
from tests.helpers import spread_weights
from tests.test_cli import run_cli

SOURCE_TEXT = "the quick brown fox jumps over the lazy dog. " * 30
TARGET_TEXT = "a lazy cat naps; the fox waits by the warm zone. " * 30


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    model = spread_weights(create_model("char_lstm", tiny=True, vocabulary=Vocabulary(list("abcdefg "))), seed=2)
    path = tmp_path_factory.mktemp("lstm") / "source.keras"
    model.save(str(path))
    return model, str(path)


def _rows(model, name):
    return {"embedding": named_weights(model)["network/embedding/embeddings"].numpy(),
            "logits": named_weights(model)["network/logits/kernel"].numpy()}[name]


def _check_carried_by_character(source, target):
    emb, logits = _rows(source, "embedding"), _rows(source, "logits")
    for c in target.vocabulary.chars[1:]:
        if c in source.vocabulary:
            i, j = source.vocabulary.encode(c)[0], target.vocabulary.encode(c)[0]
            np.testing.assert_array_equal(_rows(target, "embedding")[j], emb[i], err_msg=c)
            np.testing.assert_array_equal(_rows(target, "logits")[:, j], logits[:, i], err_msg=c)


@pytest.mark.parametrize("chars", ["gfedcba ", "xgfe dcbay"])  # same characters reordered; reordered plus new ones
def test_vocabulary_is_carried_by_character_on_every_path(source, chars):
    model, path = source
    vocabulary = Vocabulary(list(chars))
    targets = [derive_model(model, vocabulary=vocabulary),
               load_pretrained(path, vocabulary=vocabulary, return_report=True),
               (create_model("char_lstm", pretrained=path, vocabulary=vocabulary), None)]
    for target, report in targets:
        assert target.vocabulary == vocabulary
        _check_carried_by_character(model, target)
        if report is not None:  # same size or not: the heads were adapted, never "copied" by id
            assert set(report.by_status("adapted")) == {"network/embedding/embeddings", "network/logits/kernel",
                                                        "network/logits/bias"}
            assert f"{sum(c in model.vocabulary for c in chars)} of the target's {len(chars)} characters" in \
                report.notes[0]
    new = [c for c in chars if c not in model.vocabulary]
    fresh = derive_model(model, vocabulary=vocabulary)[0]
    for c in new:  # a character the source never saw keeps an initialised row, not a source row
        row = _rows(fresh, "embedding")[vocabulary.encode(c)[0]]
        assert not any(np.allclose(row, r) for r in _rows(model, "embedding"))


def test_text_recipe_options_and_held_out_perplexity(source):
    model, _ = source
    tf.keras.utils.set_random_seed(0)
    frozen = recipes.text(model, TARGET_TEXT, steps=6, eval_every=3, seq_len=16, batch_size=8,
                          freeze_embedding=True, freeze_first_lstm=True, held_out=TARGET_TEXT[:400])
    start = derive_model(model, vocabulary=Vocabulary.from_text(TARGET_TEXT))[0]
    vocabulary = frozen.model.vocabulary
    for c in vocabulary.chars[1:]:  # the frozen embedding still holds the source's row of every shared character
        if c in model.vocabulary:
            np.testing.assert_array_equal(_rows(frozen.model, "embedding")[vocabulary.encode(c)[0]],
                                          _rows(model, "embedding")[model.vocabulary.encode(c)[0]])
    for name in ("network/lstm_1/lstm_cell/kernel", "network/lstm_1/lstm_cell/recurrent_kernel"):
        np.testing.assert_array_equal(named_weights(frozen.model)[name].numpy(), named_weights(start)[name].numpy())
    assert not np.array_equal(named_weights(frozen.model)["network/lstm_2/lstm_cell/kernel"].numpy(),
                              named_weights(start)["network/lstm_2/lstm_cell/kernel"].numpy())
    curve = frozen.extra["perplexity"]
    assert [p["step"] for p in curve] == [0, 3, 6] and all(p["perplexity"] > 1 for p in curve)
    assert perplexity(frozen.model, TARGET_TEXT[:400], 16) == pytest.approx(curve[-1]["perplexity"], rel=1e-5)
    assert frozen.freeze.parts["network"]["frozen"] > 0
    # L2-SP pulls towards the carried starting point: it adds to the loss once the weights move.
    plain = recipes.text(model, TARGET_TEXT, steps=3, eval_every=3, seq_len=16, batch_size=8, seed=1)
    pulled = recipes.text(model, TARGET_TEXT, steps=3, eval_every=3, seq_len=16, batch_size=8, seed=1,
                          l2_sp=(100.0, 0.0))
    assert pulled.model.regularizers and not plain.model.regularizers
    moved = [np.abs(named_weights(r.model)["network/lstm_2/lstm_cell/kernel"].numpy()
                    - named_weights(start)["network/lstm_2/lstm_cell/kernel"].numpy()).mean() for r in (plain, pulled)]
    assert moved[1] < moved[0]
    with pytest.raises(ValueError, match="character model"):
        recipes.text(create_model("dcgan", tiny=True), TARGET_TEXT)


def test_a_transferred_text_model_exports_like_the_source(source, tmp_path):
    model, _ = source
    target, _ = derive_model(model, vocabulary=Vocabulary.from_text(TARGET_TEXT))
    version = export_saved_model(target, str(tmp_path / "serving"), "text")
    served = tf.saved_model.load(version).signatures["generate"]
    text = served(prompt=tf.constant("the "), length=tf.constant(20), temperature=tf.constant(0.0),
                  seed=tf.constant(0))["text"].numpy().decode()
    assert text == target.generate("the ", length=20, temperature=0.0)
    report = export_tflite(target, str(tmp_path / "text.tflite"), seq_len=16)
    assert report.signature == "next_token_logits" and report.max_abs_error < 1e-4


def test_ktg_transfer_from_a_character_model_picks_the_text_recipe(source, tmp_path, capsys):
    _, path = source
    corpus = tmp_path / "target.txt"
    corpus.write_text(TARGET_TEXT)
    out = tmp_path / "t"
    assert run_cli("transfer", "--from", path, "--dataset", str(corpus), "--steps", "4", "--sample_every", "2",
                   "--seq_len", "16", "--batch_size", "8", "--length", "30", "--out", str(out), "--verbose", "0") == 0
    printed = capsys.readouterr().out
    assert printed.index("Transfer report") < printed.index("held-out perplexity") < printed.index("model:")
    assert "characters carried from the source by character" in printed
    assert len((out / "samples.txt").read_text(encoding="utf-8")) == 4 + 30
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["recipe"] == "text" and [p["step"] for p in metrics["extra"]["perplexity"]] == [0, 2, 4]
    assert os.path.isdir(out / "checkpoints")
