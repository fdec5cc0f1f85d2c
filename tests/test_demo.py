"""`make demo` (tools/demo.py) end to end, as a user runs it, on tiny sources: every arm runs, is measured and
written, the exports exist. The real sources' run is `make demo` itself (README)."""

import json
import os
import subprocess
import sys

import pytest

from keras_transfer_gan.factory import create_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_the_demo_runs_a_gan_pair_and_a_diffusion_arm_at_the_same_training_time(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import demo

    gan, ddim = tmp_path / "dcgan.keras", tmp_path / "ddim.keras"
    create_model("dcgan", tiny=True, image_size=32).save(str(gan))
    create_model("ddim", tiny=True, image_size=32).save(str(ddim))
    out = tmp_path / "out"
    steps = 28
    job = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "demo.py"), "--out", str(out), "--source",
                          str(gan), "--diffusion_source", str(ddim), "--steps", str(steps), "--eval_every", "14",
                          "--n_fake", "16", "--held_out", "20"], capture_output=True, text=True, timeout=900)
    assert job.returncode == 0, job.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert set(results["runs"]) == {"transfer", "scratch", "diffusion"}
    for name in ("transfer", "scratch"):
        assert [p["step"] for p in results["runs"][name]["curve"]] == [0, 14, 28]
    ddim_steps = round(steps / demo.STEP_COST_RATIO)  # the GANs' training time, in DDIM steps
    assert [p["step"] for p in results["runs"]["diffusion"]["curve"]] == [ddim_steps]  # measured once, at the end
    assert results["runs"]["diffusion"]["method"] == demo.DIFFUSION_METHOD
    table = (out / "results.md").read_text()
    assert "| diffusion (" in table and "| not measured |" in table and table.count("\n") == 6
    for path in ("serving/dcgan_fashion_mnist/1/saved_model.pb", "serving/ddim_fashion_mnist/1/saved_model.pb",
                 "serving/models.config", "generator_int8.tflite", "diffusion_samples.png", "diffusion.keras",
                 "fid.png"):
        assert (out / path).is_file(), path
    assert results["tflite"]["none"]["max_abs_error"] < 1e-4
