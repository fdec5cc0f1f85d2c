"""The benchmark tools' counting and statistics, and one tiny end-to-end run of the train-step benchmark."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from bench_common import count_flops, round_stats  # noqa: E402


def _net():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(4, 3, padding="same"),
        keras.layers.Flatten(),
        keras.layers.Dense(5),
    ])


def test_count_flops_forward_is_the_analytic_count():
    net = _net()
    fn = tf.function(lambda x: net(x)).get_concrete_function(tf.TensorSpec([2, 8, 8, 1]))
    flops = count_flops(fn)
    conv = 2 * (2 * 8 * 8 * 4) * (3 * 3 * 1)  # 2 x outputs x (kernel area x input channels)
    dense = 2 * 2 * 256 * 5
    assert flops["by_op"] == {"Conv2D": conv, "MatMul": dense}
    assert flops["total"] == conv + dense


def test_count_flops_of_a_training_step_leaves_out_gradients_nothing_uses():
    net = _net()
    optimizer = keras.optimizers.SGD(0.1)
    optimizer.build(net.trainable_variables)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(net(x)))
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))
        return loss

    flops = count_flops(step.get_concrete_function(tf.TensorSpec([2, 8, 8, 1])))
    conv, dense = 2 * 2 * 64 * 4 * 9, 2 * 2 * 256 * 5
    # Forward conv + dense, dense's weight and input gradients, conv's filter gradient; the gradient with
    # respect to the images (a Conv2DBackpropInput) feeds nothing and is not counted.
    assert flops["by_op"] == {"Conv2D": conv, "MatMul": 3 * dense, "Conv2DBackpropFilter": conv}


def test_round_stats_takes_the_fastest_round_and_counts_the_stalled():
    stats = round_stats([1.27, 0.80, 0.85, 2.55, 0.82])
    assert stats["best"] == 0.80
    assert stats["median"] == pytest.approx(0.82)
    assert stats["throttled"] == 2


def test_bench_train_step_runs_and_reports(tmp_path):
    out = tmp_path / "bench.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "bench_train_step.py"), "--size", "16", "--filters", "8",
         "--latent", "16", "--steps", "2", "--rounds", "2", "--variants", "fit,trainer,minimal,fit+spe2",
         "--no_peak", "--json", str(out)],
        capture_output=True, text=True, timeout=600, env=env, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert set(result["steps_per_s"]) == {"fit", "trainer", "minimal", "fit+spe2"}
    assert all(rate > 0 for rate in result["steps_per_s"].values())
    assert result["ratio_to_baseline"]["minimal"] == 1.0
    assert result["flops_per_step"]["ours"]["total"] == result["flops_per_step"]["minimal"]["total"] > 0
    assert all(len(rounds) == 2 for rounds in result["round_seconds"].values())
    assert "x minimal" in done.stdout


def test_bench_sampling_runs_and_reports(tmp_path):
    out = tmp_path / "sampling.json"
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "bench_sampling.py"), "--size", "16", "--widths", "8,16",
         "--batch", "2", "--steps", "2", "--rounds", "2", "--precision", "float32", "--no_torch", "--json", str(out)],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert set(result["images_per_s"]) == {"graph", "eager"} and result["baseline"] == "graph"
    assert all(rate > 0 for rate in result["images_per_s"].values())
    assert result["precision"] == "float32" and result["steps"] == 2
    assert all(len(rounds) == 2 for rounds in result["round_seconds"].values())


def test_the_pytorch_u_net_is_the_keras_one():
    """The sampling benchmark's PyTorch module computes the Keras denoiser's prediction (float32), and the parity
    check stops the tool when it does not (here: one weight changed). Needs PyTorch (not a dependency)."""
    torch = pytest.importorskip("torch")
    import bench_sampling

    from keras_transfer_gan.models.ddim import DDIM

    keras.utils.set_random_seed(0)
    model = DDIM(image_size=16, widths=(8, 16, 16), embedding_dims=8)  # attention at 8x8 and 4x4 levels
    rng = np.random.default_rng(0)
    model.sampler.set_weights([w + 0.05 * rng.standard_normal(w.shape).astype(w.dtype)
                               for w in model.sampler.get_weights()])
    net = bench_sampling.torch_unet(model)
    parameters, err, _ = bench_sampling.check_parity(model, net, bf16=False)
    assert parameters == model.sampler.count_params() and err < 1e-4
    images = bench_sampling.torch_sampler(model, net, bf16=False)(torch.zeros(2, 1, 16, 16), 3).numpy()
    # the same trajectory (the first step divides by a signal rate of 0.02: rounding grows, hence 1e-2)
    np.testing.assert_allclose(images.transpose(0, 2, 3, 1),
                               model.reverse_diffusion_eager(tf.zeros((2, 16, 16, 1)), 3).numpy(), atol=1e-2)
    with torch.no_grad():
        net.layer["dn_mid0_conv0"].weight[0, 0, 1, 1] += 1.0
    with pytest.raises(SystemExit, match="disagree|from PyTorch"):
        bench_sampling.check_parity(model, net, bf16=False)


def test_the_fused_variant_option_is_stylegan2s_only():
    import argparse

    import bench_train_step

    assert bench_train_step.parse_variant("minimal+fused")["fused"] is True
    assert bench_train_step.parse_variant("fit")["fused"] is False
    args = argparse.Namespace(model="stylegan2", size=16, filters=8, latent=16)
    assert bench_train_step.build_model(args, fused=True).fused_modconv is True
    assert bench_train_step.build_model(args).fused_modconv is False
    with pytest.raises(SystemExit, match="StyleGAN2"):
        bench_train_step.build_model(argparse.Namespace(model="dcgan", size=16, filters=8, latent=16), fused=True)
    with pytest.raises(SystemExit, match="fused"):
        bench_train_step.parse_variant("torch+fused")
