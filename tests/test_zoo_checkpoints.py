"""The shipped zoo checkpoints: present, verified, loadable, documented, and the extractor is accurate."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_transfer_gan import create_model, load_images, load_pretrained, zoo
from keras_transfer_gan.metrics import (
    evaluate_generator,
    evaluate_samples,
    extractor_for,
    generate_images,
    get_extractor,
    split_halves,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = ["acgan_digits", "acgan_fashion", "charlstm_pydocs", "dcgan_digits", "dcgan_faces", "dcgan_fashion",
           "dcgan_fashion_base", "dcgan_mnist", "ddim_fashion_base", "digits_classifier", "fashion_classifier",
           "fashion_sketch_classifier", "mnist_classifier", "mnist_m_classifier", "stylegan2_fashion_base",
           "vae_digits", "vae_fashion", "vae_fashion_sketch", "vae_mnist", "vae_mnist_m", "wgan_gp_digits"]
#: The evaluator of each real-data domain, its data and the accuracy it must reach on the test split.
EVALUATORS = [("fashion_classifier", "fashion_mnist", 0.90), ("mnist_classifier", "mnist", 0.97),
              ("mnist_m_classifier", "mnist_m", 0.90), ("fashion_sketch_classifier", "fashion_sketch", 0.88)]


@pytest.fixture(autouse=True)
def real_zoo(monkeypatch):
    monkeypatch.delenv("KTG_ZOO_DIR", raising=False)


def test_every_zoo_config_has_a_verified_checkpoint_and_a_card():
    assert zoo.list_zoo() == SHIPPED
    total = 0
    for name in SHIPPED:
        directory = os.path.join(ROOT, "saved_models", name)
        zoo.zoo_path(name)  # raises on a checksum mismatch
        with open(os.path.join(ROOT, "zoo", name, "config.json")) as f:
            assert json.load(f) == zoo.zoo_config(name)  # the config that made it is the one in zoo/
        card = zoo.zoo_card(name)
        assert name in card and "sha256" in card and "training time" in card
        total += sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
    assert total < 64e6  # the wheel carries all of it; ddim_fashion_base alone is 13.7 MB (two U-Nets: trained, EMA)


GENERATORS = [n for n in SHIPPED if n != "charlstm_pydocs" and not n.endswith("classifier")]


@pytest.mark.parametrize("name", GENERATORS)
def test_zoo_generators_load_and_generate(name):
    model = load_pretrained(name)
    images = np.asarray(model.generate(8, seed=0))
    channels = 3 if zoo.zoo_config(name)["dataset"].startswith("mnist_m") else 1
    assert images.shape == (8, 32, 32, channels) and np.isfinite(images).all() and images.std() > 0.1
    assert type(create_model(zoo.zoo_config(name)["model"], pretrained=name)) is type(model)


@pytest.mark.slow
@pytest.mark.parametrize("name", GENERATORS)
def test_zoo_generators_reproduce_the_fid_on_their_card(name):
    """The card's FID, recomputed by the card's own protocol (same samples, same real images, same
    extractor), within 5%: oneDNN's kernels differ between CPUs in the last bits; nothing else may move it.
    Real-data cards: samples against one half of the test split, and the floor (the other half) exactly."""
    card = json.load(open(os.path.join(ROOT, "saved_models", name, "metrics.json")))["eval"]
    config = zoo.zoo_config(name)
    seed = config.get("seed", 0)
    model = load_pretrained(name)
    if "steps" in model.sample_options:  # a sampler in steps (the architecture declares it)
        _assert_sampler_matches_its_card(model, config, card, seed)
        return
    if card.get("split") == "test":
        result = evaluate_generator(model, config["dataset"], extractor=card["extractor"], split="test", seed=seed,
                                    metrics=("fid",))
        assert result["floor_fid"] == pytest.approx(card["floor_fid"], rel=1e-3)
    else:
        n = config.get("eval", {}).get("n", 1000)
        real, _ = load_images(config["dataset"], image_size=config["image_size"], seed=seed)
        result = evaluate_samples(real[:n], generate_images(model, n, seed=seed + 1), extractor=card["extractor"],
                                  metrics=("fid",), seed=seed)
    assert result["n_fake"] == card["n_fake"]
    assert result["fid"] == pytest.approx(card["fid"], rel=0.05)
    assert card["kid_std"] > 0  # KID's subsets are smaller than the sets, so its spread is measured


def _assert_sampler_matches_its_card(model, config, card, seed, n=250):
    """A model that samples in steps (a DDIM: 4,000 samples of 25 steps are ~8 minutes on 2 cores, ~16 under
    the suite's load): `n` samples at its card's steps, KID against the card's half of the test split, within
    four of this measurement's standard deviations (0.012-0.02 at 250: measured over three seeds) plus 0.01 of the
    card's KID (KID, unlike FID, is unbiased in the sample size). Looser than the FID reproduction: it catches
    another checkpoint (the DDIM at step 2,000 scored 0.20 against 0.015) or a broken sampler, not a 5% drift."""
    real, _ = load_images(config["dataset"], image_size=config["image_size"], split="test")
    first, _ = split_halves(real, seed)
    result = evaluate_samples(real[first], generate_images(model, n, seed=seed + 1), extractor=card["extractor"],
                              metrics=("kid",), seed=seed, kid_subset_size=n // 2)
    assert abs(result["kid"] - card["kid"]) < 4 * result["kid_std"] + 0.01, (result, card["kid"])


def test_zoo_text_model_writes_python_like_text():
    model = load_pretrained("charlstm_pydocs")
    text = model.generate("Return the ", length=100, temperature=0.5, seed=0)
    words = text.split()  # docstrings are indented: long runs of spaces follow a line, so judge the words
    assert len(words) >= 10 and sum(w.isalpha() for w in words) > 0.7 * len(words), text
    assert {"the", "of", "to", "a"} & set(words)


def test_digits_classifier_is_an_accurate_offline_extractor():
    model = load_pretrained("digits_classifier")
    images, labels = load_images("digits", image_size=32, labels=True, limit=500, seed=3)
    assert (model.predict_classes(images) == labels).mean() > 0.95


@pytest.mark.parametrize("name,spec,floor", EVALUATORS)
def test_domain_evaluators_reach_their_accuracy_on_the_test_split(name, spec, floor):
    model = load_pretrained(name)
    images, labels = load_images(spec, image_size=32, labels=True, split="test")
    accuracy = float((model.predict_classes(images) == labels).mean())
    assert accuracy >= floor, f"{name}: {accuracy:.4f} on {len(labels)} test images"
    # MNIST-M's evaluator adds colour statistics to its classifier (tests/test_evaluator_gate.py says why).
    expected = "mnist_m_appearance" if name == "mnist_m_classifier" else name
    assert extractor_for(spec) == expected and extractor_for(f"{spec}:3,9") == expected
    assert get_extractor(name).name == name
    card = zoo.zoo_card(name)
    assert "domain floor: FID between two disjoint halves of the test split" in card


def test_train_zoo_reproduces_a_checkpoint_layout(tmp_path):
    env = {**os.environ, "KTG_ZOO_DIR": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "2",
           "KTG_ZOO_RUNS_DIR": str(tmp_path / "runs")}
    code = ("import sys, json; sys.argv=['x']; sys.path.insert(0, 'tools'); import train_zoo as t; "
            "cfg = json.load(open('zoo/digits_classifier/config.json')); cfg.update(epochs=1); "
            "m, metrics = t.train('digits_classifier', cfg); print(t.write_checkpoint('tiny_clf', cfg, m, metrics))")
    job = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert job.returncode == 0, job.stderr[-2000:]
    assert sorted(os.listdir(tmp_path / "tiny_clf")) == ["config.json", "metrics.json", "model.keras",
                                                         "model.keras.sha256"]
    assert not [d for d in os.listdir(tmp_path) if d.startswith(".tmp")]


def test_train_zoo_states_a_samplers_steps_and_cost():
    """A model that samples in steps (a DDIM) gets its steps and seconds per 100 images on its card; a
    one-pass generator no row."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import train_zoo

    cost = train_zoo.sampling_cost(create_model("ddim", tiny=True, sampling_steps=3), n=4, rounds=1)
    assert cost["steps"] == 3 and cost["seconds_per_100"] > 0
    assert train_zoo.sampling_cost(create_model("dcgan", tiny=True)) is None
    assert train_zoo._sampling_row(cost)[0].startswith("| sampling | 3 DDIM steps per image")
    assert train_zoo._sampling_row(None) == []


@pytest.mark.slow
def test_train_zoo_resumes_a_killed_run_and_compares_at_the_reference_time(tmp_path):
    """One epoch, "killed" (its run kept), started again for two == two epochs at once: the same steps, KID
    history and weights, the training time summed; a `compare` reference whose training time the first epoch
    reaches gets that epoch's selected weights measured beside it."""
    (tmp_path / "ref").mkdir()
    os.symlink(os.path.join(ROOT, "saved_models", "digits_classifier"), tmp_path / "digits_classifier")  # evaluator
    (tmp_path / "ref" / "metrics.json").write_text(json.dumps(
        {"train_seconds": 0.0, "steps": 1, "eval": {"fid": 1.0, "kid": 0.1, "precision": 0.5, "recall": 0.5}}))
    env = {**os.environ, "KTG_ZOO_DIR": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "2",
           "KTG_ZOO_RUNS_DIR": str(tmp_path / "runs")}
    code = f"""
import json, sys
sys.path.insert(0, "tools")
import numpy as np
import train_zoo as t
cfg = json.load(open("zoo/dcgan_digits/config.json"))
cfg.update(epochs=1, steps_per_epoch=3, select={{"images": 64, "n": 64}}, eval={{"n": 64}}, compare="ref")
t.train("g", cfg)
cfg["epochs"] = 2
resumed, metrics = t.train("g", cfg)
t.RUNS_DIR = {str(tmp_path / "whole")!r}
whole, whole_metrics = t.train("g", cfg)
same = all(np.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(resumed.get_weights(), whole.get_weights()))
card = t._comparison(metrics["equal_time"], "Why the two differ.")
print("RESULT", json.dumps({{"same": bool(same), "metrics": metrics, "whole": whole_metrics, "card": card}}))
"""
    job = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert job.returncode == 0, job.stderr[-3000:]
    assert "Resumed from" in job.stdout
    result = json.loads(job.stdout.split("RESULT ", 1)[1])
    metrics, whole = result["metrics"], result["whole"]
    assert result["same"] and metrics["steps"] == whole["steps"] == 6
    assert metrics["selected"] == whole["selected"] and [s for s, _ in metrics["selected"]["kid_by_step"]] == [3, 6]
    assert metrics["train_seconds"] > 0
    equal = metrics["equal_time"]
    assert equal["step"] == 3 and equal["selected_step"] == 3 and equal["reference"] == "ref"
    assert set(equal["eval"]) >= {"fid", "kid", "precision", "recall"}
    assert result["card"][0] == "## Against `ref` at the same training time"
    assert "this model at" in "".join(result["card"]) and "in FID" in result["card"][-4]
    assert result["card"][-2:] == ["Why the two differ.", ""]  # the config's comparison_note, after the verdict
