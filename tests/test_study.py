"""Transfer-vs-scratch arms and the study tool, on tiny models."""

import json
import os
import sys

import numpy as np
import pytest

from keras_transfer_gan import create_model, load_images
from keras_transfer_gan.data import few_shot_split
from keras_transfer_gan.metrics import FeatureExtractor
from keras_transfer_gan.study import build_arm_model, run_arm, run_study, verdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    directory = tmp_path_factory.mktemp("study")
    source, clf = create_model("dcgan", tiny=True), create_model("classifier", tiny=True)
    source.save(str(directory / "source.keras"))
    clf.save(str(directory / "clf.keras"))
    return source, clf, directory


def test_arms_start_from_the_source_or_from_scratch(tiny):
    source, clf, _ = tiny
    transferred, report = build_arm_model("trgan+freeze_d+diffaugment", source, 3)
    assert report.counts()["adapted"] == 3 and transferred.augment is not None
    d = transferred.discriminator  # Freeze-D (2 blocks) keeps the colour-adapted first conv trainable
    assert d.get_layer("d_block1_conv").trainable and not d.get_layer("d_block2_conv").trainable
    scratch, none = build_arm_model("scratch", source, 3)
    assert none is None and scratch.channels == 3 and scratch.augment is None
    assert not np.allclose(scratch.generator.get_layer("g_project").kernel.numpy(),
                           source.generator.get_layer("g_project").kernel.numpy())
    with pytest.raises(ValueError, match="unknown method"):
        build_arm_model("magic", source, 3)


def test_run_arm_evaluates_at_fixed_intervals_and_selects_on_held_out_kid(tiny):
    source, clf, _ = tiny
    images, held_out = few_shot_split("mnist_m", 16, held_out=24, image_size=16, channels=3)
    reference, _ = load_images("mnist_m", image_size=16, split="test", limit=32)
    result = run_arm("trgan+cdc", source, images, steps=4, eval_every=2, reference_images=reference,
                     extractor=FeatureExtractor.from_classifier(clf), batch_size=8, n_fake=16, held_out=held_out)
    assert [p["step"] for p in result["curve"]] == [0, 2, 4]
    assert all(np.isfinite(p["fid"]) and p["fid"] >= 0 for p in result["curve"])
    assert all(np.isfinite(p["intra_cluster"]) and p["intra_cluster"] >= 0 for p in result["curve"])
    kids = [p["held_out_kid"] for p in result["curve"]]
    assert result["selected_step"] == result["curve"][int(np.argmin(kids))]["step"]
    assert result["nn_real"] > 0 and result["sample_seconds_per_100"] > 0
    with pytest.raises(ValueError, match="multiple of eval_every"):
        run_arm("trgan", source, images, 5, 2, images, FeatureExtractor.from_classifier(clf))
    # A tuning trial (measure=False): the same held-out KIDs, no test-split samples drawn.
    trial = run_arm("trgan+cdc", source, images, steps=4, eval_every=2, reference_images=reference,
                    extractor=FeatureExtractor.from_classifier(clf), batch_size=8, n_fake=16, held_out=held_out,
                    measure=False)
    assert [set(p) for p in trial["curve"]] == [{"step", "held_out_kid", "held_out_kid_small"}] * 3
    np.testing.assert_allclose([p["held_out_kid"] for p in trial["curve"]], kids, rtol=1e-4, atol=1e-6)
    assert trial["sample_seconds_per_100"] is None and trial["selected_step"] == result["selected_step"]
    with pytest.raises(ValueError, match="measure=False reads only the held-out KIDs"):
        run_arm("trgan", source, images, 2, 2, reference, FeatureExtractor.from_classifier(clf), measure=False)


def test_few_shot_split_holds_out_other_images_of_the_train_split():
    subset, held_out = few_shot_split("fashion_mnist:3,9", 25, held_out=100, seed=4)
    same, _ = load_images("fashion_mnist:3,9", limit=25, seed=4)
    np.testing.assert_array_equal(subset, same)
    flat = {x.tobytes() for x in subset}
    assert len(held_out) == 100 and not any(x.tobytes() in flat for x in held_out)


def test_transfer_study_tool_writes_tables_plots_and_json(tiny, tmp_path):
    _, _, directory = tiny
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import transfer_study

    create_model("vae", tiny=True, channels=3).save(str(directory / "vae.keras"))  # a second evaluator
    argv = ["--plan", "grid", "--targets", "colour", "--source", str(directory / "source.keras"), "--extractor",
            str(directory / "clf.keras"), "--second_extractor", str(directory / "vae.keras"), "--sizes", "10",
            "--seeds_small", "0,1",
            "--methods", "scratch+diffaugment,trgan+freeze_d", "--steps", "2", "--eval_every", "1",
            "--batch_size", "8", "--n_fake", "16", "--held_out", "20", "--out", str(tmp_path)]
    transfer_study.main(argv)
    first = json.loads((tmp_path / "transfer_study.json").read_text())["runs"]
    assert len(os.listdir(tmp_path / ".study_runs")) == 4  # every finished run cached
    transfer_study.main(argv)  # a rerun (an interrupted study resumed) reuses them: the same curves
    assert json.loads((tmp_path / "transfer_study.json").read_text())["runs"] == first
    text = (tmp_path / "transfer_study.md").read_text()
    assert "| colour | 10 | scratch + DiffAugment |" in text and "| colour | 10 | TrGAN + Freeze-D |" in text
    assert "*floors*" in text and "## Against the target" in text
    assert text.count("Command: `python tools/transfer_study.py --plan grid") == 1
    data = json.loads((tmp_path / "transfer_study.json").read_text())
    assert len(data["runs"]) == 4 and len(data["runs"][0]["curve"]) == 3 and len(data["floors"]) == 2
    assert all(r["selected_step"] in (0, 1, 2) for r in data["runs"])
    assert all(np.isfinite(p["fid_2"]) and p["fid_2"] >= 0 for r in data["runs"] for p in r["curve"])
    assert all(np.isfinite(f["copier_fid_2"]) and np.isfinite(f["real_fid_2"]) for f in data["floors"])
    assert "FID, 2nd evaluator" in text and "FID gain, 2nd evaluator" in text
    assert (tmp_path / "transfer_study.png").stat().st_size > 1000
    assert (tmp_path / "transfer_study_curves.png").stat().st_size > 1000

    # --merge: studies run apart join one page as measured (not rerun); the side-by-side table uses the draws
    # every architecture ran (here seed 0: the style-based study ran only that one).
    for label, seeds in (("close", (0, 1)), ("close_style", (0,))):
        part = dict(data, runs=[dict(r, target=label) for r in data["runs"] if r["seed"] in seeds],
                    floors=[dict(f, target=label) for f in data["floors"] if f["seed"] in seeds],
                    header=["# a study", "", f"Command: the {label} study."])
        (tmp_path / f"{label}.json").write_text(json.dumps(part))
    merge = ",".join(str(tmp_path / f"{label}.json") for label in ("close", "close_style"))
    transfer_study.main(["--targets", "", "--merge", merge, "--out", str(tmp_path / "joined")])
    joined = json.loads((tmp_path / "joined" / "transfer_study.json").read_text())
    assert len(joined["runs"]) == 6 and {r["target"] for r in joined["runs"]} == {"close", "close_style"}
    text = (tmp_path / "joined" / "transfer_study.md").read_text()
    assert "Command: the close study." in text and "Command: the close_style study." in text
    side = text.split("## Architectures side by side", 1)[1].split("## Every arm", 1)[0]
    assert "N = 10: seeds 0)" in side and "| 10 | close | TrGAN + Freeze-D | 1 |" in side
    assert "| 10 | close_style | TrGAN + Freeze-D | 1 |" in side
    assert "| close | 10 | TrGAN + Freeze-D | " in text  # the every-arm table keeps both of close's seeds
    with pytest.raises(SystemExit, match="'close' is also in"):
        transfer_study.main(["--targets", "", "--merge", f"{merge},{tmp_path / 'close.json'}", "--out",
                             str(tmp_path / "twice")])
    with pytest.raises(SystemExit, match="not a study JSON"):
        transfer_study.main(["--targets", "", "--merge", str(tmp_path / "transfer_study.md"), "--out",
                             str(tmp_path / "bad")])


def test_verdict_never_credits_the_untouched_source():
    """A transfer arm selected at step 0 is the source before any fine-tuning: not a method meeting the target."""
    def row(method, fid, step, recall=0.5):
        return {"target": "close", "n": 10, "method": method, "fid": fid, "recall": recall, "memorisation": 1.0,
                "step": step}

    base = row("scratch+diffaugment", 20.0, 2000, recall=0.1)
    untouched = verdict([base, row("trgan+freeze_d+diffaugment", 2.0, 0)], 2400)
    assert untouched[-1].endswith("| no: the source untouched (step 0) scores best |")
    tuned = verdict([base, row("trgan+freeze_d+diffaugment", 2.0, 400)], 2400)
    assert tuned[-1].endswith("| yes |")
    slow = verdict([base, row("trgan+freeze_d+diffaugment", 2.0, 1200)], 2400)
    assert slow[-1].endswith("| no: more than a quarter of the baseline's steps |")
    copying = verdict([base, {**row("trgan+freeze_d+diffaugment", 15.0, 400, recall=0.05), "memorisation": 0.8}], 2400)
    assert copying[-1].endswith("| no: gain under 30%, recall not higher, memorisation under 0.9 |")
    # a diffusion arm's grid of 3 evaluations (first at 59 of 177 steps) cannot resolve a quarter: not counted
    coarse = verdict([{**base, "step": 177}, {**row("diffusion+lora", 2.0, 177), "first_step": 59.0}], 177)
    assert coarse[-1].endswith("| 177 (177); not measurable: first evaluation at step 59 | yes |")
    fine = verdict([base, {**row("trgan+freeze_d+diffaugment", 2.0, 1200), "first_step": 400.0}], 2400)
    assert fine[-1].endswith("| 1200 (2000) | no: more than a quarter of the baseline's steps |")


def test_verdict_reads_both_evaluators_and_reports_a_flip():
    """Met only when both evaluators agree; transfer better under one and worse under the other is a flip."""
    def row(method, fid, fid_2, step=400, recall=0.5):
        return {"target": "close", "n": 10, "method": method, "fid": fid, "fid_2": fid_2, "recall": recall,
                "memorisation": 1.0, "step": step}

    base = row("scratch+diffaugment", 20.0, 10.0, 2000, recall=0.1)
    agree = verdict([base, row("trgan+freeze_d+diffaugment", 2.0, 5.0)], 2400)
    assert agree[-1].endswith("| 90% | 50% | 0.50 (0.10) | 1.00 | 400 (2000) | yes |")
    weak = verdict([base, row("trgan+freeze_d+diffaugment", 2.0, 9.0)], 2400)  # 10% under the second: not met
    assert weak[-1].endswith("| 10% | 0.50 (0.10) | 1.00 | 400 (2000) | no: gain under 30% on the 2nd evaluator |")
    flip = verdict([base, row("trgan+freeze_d+diffaugment", 2.0, 12.0)], 2400)
    assert flip[-1].endswith("| -20% | 0.50 (0.10) | 1.00 | 400 (2000) | no: the verdict flips between the "
                             "evaluators (not a result) |")
    alone = verdict([row("scratch+diffaugment", 20.0, None, 2000, 0.1), row("trgan", 2.0, None)], 2400)
    assert "| 90% | n/a |" in alone[-1] and alone[-1].endswith("| yes |")


def test_tuning_chooses_on_held_out_kid_and_never_reads_the_test_split(tiny, tmp_path):
    from keras_transfer_gan.study import StudySettings, StudyTarget
    from keras_transfer_gan.study.tuning import SWEEPS, choices_table, tune

    source, _, directory = tiny
    settings = StudySettings(steps=2, eval_every=1, batch_size=4, n_fake=8, held_out=12,
                             extractor=str(directory / "clf.keras"), second_extractor="none")
    target = StudyTarget("colour", source, "mnist_m", settings, channels=3)
    result = tune(target, 8, 100, ["trgan+freeze_d+diffaugment+cdc", "scratch+diffaugment"], str(tmp_path),
                  report=None, edge_steps=0)  # the sweeps as listed (their extension: the test below)
    assert target._test is None  # the test split was never loaded
    trials = result["trials"]
    assert [(t["method"], t["knob"], t["value"]) for t in trials] == \
        [("scratch+diffaugment", "learning_rate", v) for v in (1e-4, 2e-4, 4e-4)] + \
        [("trgan+freeze_d+diffaugment+cdc", "cdc", v) for v in SWEEPS["cdc"]]
    for method, chosen in result["choices"].items():
        for knob, value in chosen.items():
            scores = [t for t in trials if t["method"] == method and t["knob"] == knob]
            assert value == min(scores, key=lambda t: t["kid"])["value"]
            assert result["choices_small"][method][knob] == min(scores, key=lambda t: t["kid_small"])["value"]
    assert result["held_out"] == 12 and result["held_out_small"] == 8
    assert tune(target, 8, 100, ["scratch+diffaugment", "trgan+freeze_d+diffaugment+cdc"], str(tmp_path),
                report=None, edge_steps=0) == result  # every trial from the cache
    assert "| colour | 8 | scratch+diffaugment | learning_rate " in "\n".join(choices_table([result]))
    # The plain arm sweeps Freeze-D at the default learning rate, then the learning rate at the chosen depth: the
    # trial at the default rate is the same run under both, made once.
    plain = tune(target, 8, 100, ["trgan+freeze_d+diffaugment"], str(tmp_path / "plain"), report=None,
                 edge_steps=0)
    assert [(t["knob"], t["value"]) for t in plain["trials"]][:2] == [("freeze_d", 1), ("freeze_d", 2)]  # D: 2 blocks
    assert [t["knob"] for t in plain["trials"]][2:] == ["learning_rate"] * 3
    assert len(os.listdir(tmp_path / "plain")) == 4


def test_a_learning_rate_sweep_best_at_its_edge_goes_on_past_it(tiny, tmp_path, monkeypatch):
    """A sweep that does not bracket its optimum extends that way by its own ratio, at most EDGE_STEPS values;
    one whose best is inside stops. KID here is a function of the rate (no training: the sweep's logic alone)."""
    from keras_transfer_gan.study import StudySettings, StudyTarget, tuning

    source, _, directory = tiny
    settings = StudySettings(steps=2, eval_every=1, batch_size=4, n_fake=8, held_out=12,
                             extractor=str(directory / "clf.keras"), second_extractor="none")
    target = StudyTarget("colour", source, "mnist_m", settings, channels=3)
    best = {}

    def fake_run_arm(method, *args, weights, **kwargs):
        kid = abs(np.log(weights["learning_rate"] / best[method]))
        return {"curve": [{"held_out_kid": kid, "held_out_kid_small": kid}], "train_seconds": 0.0}

    monkeypatch.setattr(tuning, "run_arm", fake_run_arm)
    rates = lambda result: [t["value"] for t in result["trials"]]  # noqa: E731
    for optimum, swept, chosen in ((2e-4, [1e-4, 2e-4, 4e-4], 2e-4),  # inside: no extension
                                   (4.5e-4, [1e-4, 2e-4, 4e-4, 8e-4], 4e-4),  # one past the top, then inside
                                   (1e-2, [1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3], 1.6e-3),  # at most EDGE_STEPS
                                   (9e-5, [1e-4, 2e-4, 4e-4, 5e-5], 1e-4)):  # past the bottom
        best["scratch+diffaugment"] = optimum
        result = tuning.tune(target, 8, 100, ["scratch+diffaugment"], str(tmp_path / str(optimum)), report=None)
        assert rates(result) == pytest.approx(swept) and result["choices"]["scratch+diffaugment"] == \
            {"learning_rate": pytest.approx(chosen)}
    assert tuning.EDGE_STEPS == 2
    result = tuning.tune(target, 8, 100, ["scratch+diffaugment"], str(tmp_path / "none"), report=None, edge_steps=0)
    assert rates(result) == pytest.approx([1e-4, 2e-4, 4e-4])


def _folder(path, n=40, size=16):
    """A folder of n colour PNG images (a user's own data, no test split)."""
    from PIL import Image

    path.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(path / f"img{i:03d}.png")
    return str(path)


def test_run_study_on_a_folder_measures_against_a_held_out_part_and_resumes(tiny, tmp_path):
    """`keras_transfer_gan.study.run_study` on a folder of images without a test split: the reference is K more
    train images per draw, the baseline arm is always in, and a rerun reads every finished run from the cache."""
    source, _, directory = tiny
    folder = _folder(tmp_path / "mine")
    kwargs = dict(sizes=(8,), seeds=(0,), methods=("trgan+freeze_d",), channels=3, steps=2, eval_every=1,
                  batch_size=4, n_fake=8, held_out=8, reference=16, extractor=str(directory / "clf.keras"),
                  report=None)
    result = run_study(str(directory / "source.keras"), folder, str(tmp_path / "out"), **kwargs)
    assert sorted(r["method"] for r in result["runs"]) == ["scratch+diffaugment", "trgan+freeze_d"]
    assert result["cached"] == 0 and all(len(r["curve"]) == 3 for r in result["runs"])
    text = (tmp_path / "out" / "study.md").read_text()
    assert "16 train images outside the few-shot subset" in text and "| mine | 8 | TrGAN + Freeze-D |" in text
    again = run_study(str(directory / "source.keras"), folder, str(tmp_path / "out"), **kwargs)
    assert again["cached"] == 2 and [r["curve"] for r in again["runs"]] == [r["curve"] for r in result["runs"]]
    with pytest.raises(ValueError, match="fewer than N"):
        run_study(str(directory / "source.keras"), folder, str(tmp_path / "o2"), **{**kwargs, "reference": 100})


def test_ktg_study_runs_from_the_command_line(tiny, tmp_path):
    """`ktg study` as a real subprocess writes the page; `ktg train --augment --steps` runs the baseline alone."""
    import subprocess

    _, _, directory = tiny
    folder = _folder(tmp_path / "data")
    out = tmp_path / "study"
    argv = [sys.executable, "-m", "keras_transfer_gan.cli", "study", "--from", str(directory / "source.keras"),
            "--dataset", folder, "--channels", "3", "--sizes", "8", "--seeds", "0", "--methods", "trgan",
            "--steps", "2", "--eval_every", "1", "--batch_size", "4", "--n", "8", "--held_out", "8",
            "--reference", "16", "--extractor", str(directory / "clf.keras"), "--out", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "study.md").is_file() and f"study: {out / 'study.md'}" in done.stdout
    train = [sys.executable, "-m", "keras_transfer_gan.cli", "train", "--model", "dcgan", "--tiny", "--dataset", folder,
             "--image_size", "16", "--augment", "diffaugment", "--steps", "4", "--sample_every", "2",
             "--batch_size", "4", "--limit", "8", "--out", str(tmp_path / "baseline"), "--verbose", "0"]
    done = subprocess.run(train, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((tmp_path / "baseline" / "metrics.json").read_text())
    assert metrics["steps"] == 4 and metrics["augment"] == "diffaugment" and metrics["history"]["step"] == [2, 4]


def test_the_run_cache_reruns_when_a_setting_the_source_or_the_code_changes(tiny, tmp_path, monkeypatch):
    """Runs are keyed by content: the same study reads them back; a regulariser weight, a changed source
    checkpoint (same path) or changed training code runs them again."""
    import keras

    from keras_transfer_gan.study import study as study_module

    source, _, directory = tiny
    path = str(tmp_path / "source.keras")
    source.save(path)
    folder = _folder(tmp_path / "mine")
    kwargs = dict(sizes=(8,), seeds=(0,), methods=("trgan+freeze_d",), channels=3, steps=2, eval_every=2,
                  batch_size=4, n_fake=8, held_out=8, reference=16, extractor=str(directory / "clf.keras"),
                  report=None)
    out = str(tmp_path / "out")
    assert run_study(path, folder, out, **kwargs)["cached"] == 0
    assert run_study(path, folder, out, **kwargs)["cached"] == 2
    assert run_study(path, folder, out, **kwargs, weights={"cdc": 5.0})["cached"] == 0
    changed = keras.models.load_model(path)
    kernel = changed.generator.get_layer("g_project").kernel
    kernel.assign(kernel.numpy() + 0.01)
    changed.save(path)  # the same file name, another checkpoint
    assert run_study(path, folder, out, **kwargs)["cached"] == 0
    assert run_study(path, folder, out, **kwargs)["cached"] == 2
    monkeypatch.setattr(study_module, "code_digest", lambda: "other code")
    assert run_study(path, folder, out, **kwargs)["cached"] == 0


def test_diffusion_arms_build_run_and_tune(tiny):
    """A diffusion source gets its own arms: the diffusion task fine-tuning every weight, LoRA (only the
    factors, merged at the end), adaptors, the pairwise loss, and scratch; GAN modifiers are refused on it
    and diffusion modifiers on a GAN arm; its learning rates are swept around its own default."""
    from keras_transfer_gan.study import method_label, parse_method
    from keras_transfer_gan.study.tuning import _sweep, knobs

    _, clf, _ = tiny
    source = create_model("ddim", tiny=True)
    lora, report = build_arm_model("diffusion+lora", source, 3)
    assert lora.lora_rank == 4 and lora.channels == 3 and lora.pairwise is None
    assert report.counts()["adapted"] >= 1  # the input and output layers carried 1 -> 3 channels
    assert all("lora_kernel" in v.path or v.path.startswith(("dn_in/", "dn_out/")) for v in lora.trainable_weights)
    assert build_arm_model("diffusion+lora+pairwise", source, 1)[0].pairwise is not None
    with pytest.raises(ValueError, match="source's image_shape"):  # the gray source cannot denoise colour
        build_arm_model("diffusion+pairwise", source, 3)
    adapted, _ = build_arm_model("diffusion+adapters", source, 1)
    assert adapted.adapter_dim == 16
    scratch, none = build_arm_model("scratch", source, 1)
    assert none is None and type(scratch) is type(source)
    for bad, message in (("diffusion+freeze_d", "a diffusion arm takes lora, adapters, pairwise only, not freeze_d"),
                         ("trgan+lora", "lora needs the diffusion base"),
                         ("diffusion+lora+adapters", "choose lora or adapters")):
        with pytest.raises(ValueError, match=message):
            parse_method(bad)
    with pytest.raises(ValueError, match="takes no augmentation"):
        build_arm_model("scratch+diffaugment", source, 1)
    assert method_label("diffusion+lora+pairwise") == "diffusion fine-tuning + LoRA + pairwise similarity"
    assert knobs("diffusion+lora") == ["learning_rate"] and knobs("diffusion+pairwise") == ["learning_rate",
                                                                                           "pairwise"]

    class Target:  # what _sweep reads of a study target
        pass
    target = Target()
    target.source = source
    assert _sweep("learning_rate", target) == (3e-4, 1e-3, 3e-3, 1e-2)  # a diffusion source's wider sweep
    images, held_out = few_shot_split("digits", 8, held_out=8, image_size=16)
    result = run_arm("diffusion+lora", source, images, steps=2, eval_every=1, reference_images=held_out,
                     extractor=FeatureExtractor.from_classifier(clf), batch_size=4, n_fake=8, held_out=held_out)
    assert [p["step"] for p in result["curve"]] == [0, 1, 2] and result["model"].lora_rank == 0
    assert result["sample_seconds_per_100"] > 0  # the sampling cost the study reports beside the training time
    # the demo's diffusion arm: no evaluation (nor held-out selection) of the source at step 0
    later = run_arm("diffusion", source, images, steps=2, eval_every=1, reference_images=held_out,
                    extractor=FeatureExtractor.from_classifier(clf), batch_size=4, n_fake=8, held_out=held_out,
                    evaluate_start=False)
    assert [p["step"] for p in later["curve"]] == [1, 2] and later["selected_step"] in (1, 2)
    assert all(p["held_out_kid"] is not None for p in later["curve"])


def test_equal_time_budget_gives_a_costlier_architecture_fewer_steps(tmp_path):
    """`study.budget`: the step-cost ratio of two architectures measured in one process (a bigger model costs
    more), the schedule keeping the number of evaluations (or taking fewer), and the ratio kept for a resumed
    study."""
    from keras_transfer_gan.study.budget import cached_step_cost_ratio, equal_time_schedule, step_cost_ratio

    small = create_model("dcgan", tiny=True)
    big = create_model("dcgan", tiny=True, g_filters=64, d_filters=64)
    assert step_cost_ratio(small, big, batch_size=8, rounds=3, steps=2) > 1.0
    assert equal_time_schedule(2400, 400, 4.0) == (600, 100)
    assert equal_time_schedule(2400, 400, 0.5) == (4800, 800)
    assert equal_time_schedule(2400, 400, 1000.0) == (6, 1)  # at least one step per evaluation
    with pytest.raises(ValueError, match="positive"):
        equal_time_schedule(2400, 400, 0.0)
    assert equal_time_schedule(2400, 400, 20.0, evaluations=3) == (120, 40)  # a diffusion arm: 3 evaluations
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="evaluations must be a positive int"):
            equal_time_schedule(2400, 400, 20.0, evaluations=bad)
    calls = []
    measure = lambda: calls.append(1) or 3.5  # noqa: E731
    key = {"source": "a", "reference": "b", "batch": 8, "machine": "AVX2, 2 cores"}
    assert cached_step_cost_ratio(str(tmp_path), key, measure) == (3.5, None)
    assert cached_step_cost_ratio(str(tmp_path), key, measure) == (3.5, None) and len(calls) == 1
    # resumed on another machine: the first machine's ratio, named, is kept (not remeasured)
    elsewhere = dict(key, machine="AVX2 AVX512F, 2 cores")
    assert cached_step_cost_ratio(str(tmp_path), elsewhere, measure) == (3.5, "AVX2, 2 cores") and len(calls) == 1
    # another batch or another source is another ratio, measured
    assert cached_step_cost_ratio(str(tmp_path), dict(elsewhere, batch=16), lambda: 7.0) == (7.0, None)
    assert cached_step_cost_ratio(str(tmp_path), dict(elsewhere, source="c"), lambda: 9.0) == (9.0, None)


def test_a_diffusion_study_takes_plain_scratch_as_its_baseline_and_sits_beside_the_gans(tiny, tmp_path):
    """`run_study` on a diffusion source runs its own arms against plain scratch (no discriminator to
    augment), and the report's side-by-side table sets each architecture's best transfer arm beside the others."""
    from keras_transfer_gan.study.report import across_architectures, baseline_of, summarize

    _, clf, directory = tiny
    source = create_model("ddim", tiny=True)
    result = run_study(source, "digits", str(tmp_path), sizes=(8,), seeds=(0,), methods=("diffusion+lora",),
                       steps=2, eval_every=1, batch_size=4, n_fake=8, held_out=8,
                       extractor=str(directory / "clf.keras"), second_extractor="none", reference=16, report=None)
    assert {r["method"] for r in result["runs"]} == {"scratch", "diffusion+lora"}
    assert baseline_of(["scratch", "diffusion"]) == "scratch"
    assert baseline_of(["scratch+diffaugment", "trgan"]) == "scratch+diffaugment"
    runs = [dict(r, target="close_diffusion") for r in result["runs"]]
    gan = [dict(r, target="close", method={"scratch": "scratch+diffaugment", "diffusion+lora": "trgan"}[r["method"]])
           for r in result["runs"]]
    rows = summarize(runs + gan, [], ["scratch", "diffusion+lora", "scratch+diffaugment", "trgan"], [8])
    lines = across_architectures(rows, ["close", "close_diffusion"])
    assert len(lines) == 4 and "| 8 | close | TrGAN |" in lines[2] and "| 8 | close_diffusion |" in lines[3]
    assert lines[0].rstrip(" |").endswith("sampling s / 100 images")
    sampling = [r["sample_seconds_per_100"] for r in result["runs"] if r["method"] == "diffusion+lora"][0]
    assert lines[3].rstrip(" |").endswith(f"{sampling:.3f}")
    old = [{k: v for k, v in r.items() if k != "sample_seconds_per_100"} for r in gan]  # a study run before it
    assert across_architectures(summarize(old, [], ["scratch+diffaugment", "trgan"], [8]), ["close"])[2].endswith(
        "| n/a |")


def test_the_demo_runs_the_published_studys_choices():
    """`make demo` shows the study's best GAN and best diffusion method on the close target at the demo's N, at the
    hyperparameters the published study chose on held-out data (docs/transfer_study.json), for the training time
    of the study's step-cost ratio (docs/.study_runs/step_costs.json): the two cannot drift apart."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import demo
    from keras_transfer_gan import zoo
    from keras_transfer_gan.study.budget import cached_step_cost_ratio

    with open(os.path.join(ROOT, "docs", "transfer_study.json")) as f:
        study = json.load(f)
    choices = {}
    for tuning in study["tunings"]:
        if tuning["target"] in ("close", "close_diffusion"):
            choices.update(tuning["choices"])
    for method, values in demo.TUNED.items():
        assert choices[method] == pytest.approx(values), method
    n = 25  # the demo's --limit
    for target, method in (("close", demo.DEFAULT_METHOD), ("close_diffusion", demo.DIFFUSION_METHOD)):
        rows = [r for r in study["rows"] if r["target"] == target and r["n"] == n and "fid" in r
                and not r["method"].startswith("scratch")]
        assert method == min(rows, key=lambda r: r["fid"])["method"], target
    sha = {name: zoo.sha256_of(zoo.zoo_path(name)) for name in ("ddim_fashion_base", "dcgan_fashion_base")}
    key = {"batch": 32, "reference": sha["dcgan_fashion_base"], "source": sha["ddim_fashion_base"],
           "machine": "the machine running this test"}  # kept on any machine: the study's own lookup finds it
    ratio, _ = cached_step_cost_ratio(os.path.join(ROOT, "docs", ".study_runs"), key,
                                      lambda: pytest.fail("the study keeps no step-cost ratio for the demo's sources"))
    assert demo.STEP_COST_RATIO == pytest.approx(ratio, abs=0.005)
