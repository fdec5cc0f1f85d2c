"""Transfer-vs-scratch arms and the study tool, on tiny models."""

import json
import os
import sys

import numpy as np
import pytest

from keras_transfer_gan import create_model, load_images
from keras_transfer_gan.metrics import FeatureExtractor
from keras_transfer_gan.transfer.comparison import build_arm_model, run_arm

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
    transferred, report = build_arm_model("trgan_freezed_diffaugment", source, 3)
    assert report.counts()["adapted"] == 3 and transferred.augment is not None
    d = transferred.discriminator  # Freeze-D (2 blocks) keeps the colour-adapted first conv trainable
    assert d.get_layer("d_block1_conv").trainable and not d.get_layer("d_block2_conv").trainable
    scratch, none = build_arm_model("scratch", source, 3)
    assert none is None and scratch.channels == 3 and scratch.augment is None
    assert not np.allclose(scratch.generator.get_layer("g_project").kernel.numpy(),
                           source.generator.get_layer("g_project").kernel.numpy())
    with pytest.raises(ValueError, match="unknown method"):
        build_arm_model("magic", source, 3)


def test_run_arm_evaluates_at_fixed_intervals(tiny):
    source, clf, _ = tiny
    images, _ = load_images("digits_m", image_size=16, limit=16)
    result = run_arm("trgan", source, images, steps=4, eval_every=2, reference_images=images,
                     extractor=FeatureExtractor.from_classifier(clf), batch_size=8, n_fake=16)
    assert [p["step"] for p in result["curve"]] == [0, 2, 4]
    assert all(np.isfinite(p["fid"]) and p["fid"] >= 0 for p in result["curve"])
    with pytest.raises(ValueError, match="multiple of eval_every"):
        run_arm("trgan", source, images, 5, 2, images, FeatureExtractor.from_classifier(clf))


def test_transfer_study_tool_writes_table_plot_and_json(tiny, tmp_path):
    _, _, directory = tiny
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import transfer_study

    transfer_study.main(["--source", str(directory / "source.keras"), "--extractor", str(directory / "clf.keras"),
                         "--sizes", "16", "--seeds", "0,1", "--methods", "scratch,trgan_freezed", "--steps", "2",
                         "--eval_every", "1", "--batch_size", "8", "--n_fake", "16", "--out", str(tmp_path)])
    table = (tmp_path / "transfer_study.md").read_text()
    assert "| 16 | scratch |" in table and "| 16 | TrGAN + Freeze-D |" in table
    data = json.loads((tmp_path / "transfer_study.json").read_text())
    assert len(data["runs"]) == 4 and len(data["runs"][0]["curve"]) == 3
    assert (tmp_path / "transfer_study.png").stat().st_size > 1000
