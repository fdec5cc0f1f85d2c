"""DDIM sampling throughput: images/s at 50 steps for our in-graph sampler, the same steps called from Python,
and the same U-Net in PyTorch eager, in one process.

    python tools/bench_sampling.py                              # default U-Net (widths 32, 64, 80), batch 64
    python tools/bench_sampling.py --precision float32 --steps 25 --json docs/bench/ddim_sampling_f32.json

Paths (rounds interleaved; each figure is the fastest round: stalls only lengthen rounds, see
`bench_common.round_stats`):

    graph       `DDIM.sample`: the whole sampler in one `tf.function` with a `tf.while_loop`
    eager       `DDIM.reverse_diffusion_eager`: one Python call per step (a reference for the graph's loop)
    torch       the same U-Net as a plain PyTorch module (`TorchUNet`), the same DDIM loop in Python,
                eager under `torch.inference_mode` (and `torch.autocast("cpu", bfloat16)` when the precision
                is mixed_bfloat16): the baseline
    torch_float32   (mixed_bfloat16 only) PyTorch eager in its default float32, what a PyTorch user runs

OMP_WAIT_POLICY=PASSIVE is set unless the variable is: both frameworks' idle threads spinning between rounds
slowed the other by 1.7-3.5x in one process.

The PyTorch module is built from the Keras denoiser's own layers (the same types, shapes and weights), and its
prediction is checked against Keras' before anything is timed (`check_parity`: equal parameter counts, Keras'
output at PyTorch's float32 one up to rounding), or the tool stops. `--precision auto` is `ktg train`'s:
mixed_bfloat16 where the CPU has bfloat16 arithmetic (AVX512_BF16, AMX), else float32. PyTorch is optional
(`pip install torch`); without it the torch path is skipped and said so.

oneDNN is switched on (TF_ENABLE_ONEDNN_OPTS=1) unless the variable is set.
"""

import argparse
import gc
import math
import os
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Idle OpenMP threads sleep instead of spinning: with PyTorch's pool spinning between its rounds, TensorFlow's
# bfloat16 sampler measured 1.7x slower in the same process (and PyTorch's 3.5x slower beside TensorFlow's).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench_common import interleaved, machine, round_stats, write_json  # noqa: E402
from keras_transfer_gan.models.ddim import DDIM  # noqa: E402
from keras_transfer_gan.training.precision import precision_scope  # noqa: E402


# -------------------------------------------------------------------- torch
def torch_unet(model):
    """The Keras `model`'s denoiser as a PyTorch module (NCHW) with its weights: every Keras layer with weights
    becomes its PyTorch counterpart under the same name, and `forward` follows `build_unet`."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    def converted(layer):
        kind, w = type(layer).__name__, [v.numpy() for v in layer.weights]
        if kind == "Conv2D":
            module = nn.Conv2d(w[0].shape[2], w[0].shape[3], w[0].shape[0], padding=w[0].shape[0] // 2)
            arrays = [w[0].transpose(3, 2, 0, 1), w[1]]
        elif kind == "Dense":
            module, arrays = nn.Linear(*w[0].shape), [w[0].T, w[1]]
        elif kind == "GroupNormalization":
            module, arrays = nn.GroupNorm(layer.groups, w[0].shape[0], eps=layer.epsilon), w
        elif kind == "MultiHeadAttention":  # kernels query, key, value (width, heads, dim), output (heads, dim, width)
            width, heads = w[0].shape[0], w[0].shape[1]
            module = nn.MultiheadAttention(width, heads, batch_first=True)
            in_w = np.concatenate([w[i].reshape(width, -1).T for i in (0, 2, 4)])
            in_b = np.concatenate([w[i].reshape(-1) for i in (1, 3, 5)])
            arrays = [in_w, in_b, w[6].reshape(-1, width).T, w[7]]
        else:
            raise SystemExit(f"bench_sampling: no PyTorch counterpart for {kind} ({layer.name})")
        with torch.no_grad():
            for param, array in zip(module.parameters(), arrays):
                param.copy_(torch.from_numpy(np.ascontiguousarray(array, np.float32)))
        return module

    denoiser = model.sampler
    frequencies = denoiser.get_layer("dn_level_sin").frequencies()

    class TorchUNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.ModuleDict({layer.name: converted(layer) for layer in denoiser.layers if layer.weights})
            self.register_buffer("speeds", torch.tensor([2 * math.pi * f for f in frequencies]))

        def block(self, x, emb, name):
            skip = self.layer[f"{name}_skip"](x) if f"{name}_skip" in self.layer else x
            h = self.layer[f"{name}_conv0"](F.silu(self.layer[f"{name}_norm0"](x)))
            h = h + self.layer[f"{name}_emb"](emb)[:, :, None, None]
            return skip + self.layer[f"{name}_conv1"](F.silu(self.layer[f"{name}_norm1"](h)))

        def attend(self, x, name):
            if f"{name}_mha" not in self.layer:
                return x
            b, c, hh, ww = x.shape
            tokens = self.layer[f"{name}_norm"](x).flatten(2).transpose(1, 2)
            out, _ = self.layer[f"{name}_mha"](tokens, tokens, tokens, need_weights=False)
            return x + out.transpose(1, 2).reshape(b, c, hh, ww)

        def forward(self, x, level):
            variance = (level * level)[:, None] * self.speeds[None]
            emb = torch.cat([torch.sin(variance), torch.cos(variance)], dim=1)
            emb = F.silu(self.layer["dn_level_fc1"](F.silu(self.layer["dn_level_fc0"](emb))))
            x, skips = self.layer["dn_in"](x), []
            for i in range(len(model.widths)):
                for j in range(model.block_depth):
                    x = self.attend(self.block(x, emb, f"dn_down{i}_{j}"), f"dn_down{i}_{j}_attn")
                    skips.append(x)
                if i < len(model.widths) - 1:
                    x = F.avg_pool2d(x, 2)
            x = self.block(self.attend(self.block(x, emb, "dn_mid0"), "dn_mid_attn"), emb, "dn_mid1")
            for i in reversed(range(len(model.widths))):
                if x.shape[-1] != skips[-1].shape[-1]:
                    x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
                for j in range(model.block_depth):
                    x = torch.cat([x, skips.pop()], dim=1)
                    x = self.attend(self.block(x, emb, f"dn_up{i}_{j}"), f"dn_up{i}_{j}_attn")
                if i > 0:
                    x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            return self.layer["dn_out"](F.silu(self.layer["dn_out_norm"](x))).float()

    return TorchUNet().eval()


def torch_sampler(model, net, bf16):
    """`DDIM.reverse_diffusion` at eta 0 in PyTorch eager: ``sample(noise_nchw, steps) -> images``."""
    import torch

    def sample(x, steps):
        # The model's own schedule (one definition): noise and signal rates at times 1, 1 - 1/steps, ..., 0.
        times = 1.0 - np.arange(steps + 1) / steps
        noise, signal = (np.asarray(v, "float64").tolist() for v in model.schedule(times))
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            clean = x
            for i in range(steps):
                n, s, n2, s2 = noise[i], signal[i], noise[i + 1], signal[i + 1]
                pred = net(x, torch.full((x.shape[0],), n))
                if model.prediction == "eps":
                    clean, eps = (x - n * pred) / s, pred
                else:
                    clean, eps = s * x - n * pred, n * x + s * pred
                x = s2 * clean + n2 * eps
            return clean.clamp(-1.0, 1.0)

    return sample


def check_parity(model, net, bf16):
    """The PyTorch module computes Keras' prediction or the tool stops: equal parameter counts, and Keras'
    output within 1e-3 (relative) of PyTorch's float32 one; under bfloat16, within twice the distance of
    PyTorch's own bfloat16 output from its float32 one (rounding, not a different network).
    Returns ``(parameters, Keras' distance, PyTorch bfloat16's distance or None)``."""
    import torch

    ours, theirs = model.sampler.count_params(), sum(p.numel() for p in net.parameters())
    if ours != theirs:
        raise SystemExit(f"bench_sampling: the PyTorch U-Net has {theirs} parameters, Keras' {ours}")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, *model.image_shape)).astype("float32")
    level = np.array([0.1, 0.4, 0.7, 0.99], "float32")
    keras_out = model.sampler([x, level], training=False).numpy()

    def torch_out(autocast):
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            out = net(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), torch.from_numpy(level))
        return out.numpy().transpose(0, 2, 3, 1)

    reference = torch_out(False)
    scale = float(np.max(np.abs(reference))) or 1.0
    err = float(np.max(np.abs(keras_out - reference)))
    torch_err = float(np.max(np.abs(torch_out(True) - reference))) if bf16 else None
    allowed = max(2 * torch_err, 1e-3 * scale) if bf16 else 1e-3 * scale
    if err > allowed:
        raise SystemExit(f"bench_sampling: Keras is {err:.3g} from PyTorch's float32 output (allowed {allowed:.3g}, "
                         f"output scale {scale:.3g})")
    return ours, err, torch_err


# --------------------------------------------------------------------- main
def run(args):
    import keras

    keras.utils.set_random_seed(0)
    with precision_scope(args.precision) as (policy, reason):
        model = DDIM(image_size=args.size, widths=tuple(int(w) for w in args.widths.split(",")))
    rng = np.random.default_rng(1)
    # trained weights are not needed for speed, but a U-Net whose zero-initialised output layers are still zero
    # makes the parity check trivial: perturb every weight
    model.sampler.set_weights([w + 0.05 * rng.standard_normal(w.shape).astype(w.dtype)
                               for w in model.sampler.get_weights()])
    bf16 = policy == "mixed_bfloat16"
    noise = model.initial_noise(args.batch, 0)
    paths = {"graph": lambda: model.sample(args.batch, steps=args.steps, seed=0)}
    if args.eager:
        paths["eager"] = lambda: model.reverse_diffusion_eager(noise, args.steps).numpy()
    result = {"machine": machine(), "precision": policy, "precision_reason": reason, "batch": args.batch,
              "steps": args.steps, "widths": args.widths, "size": args.size,
              "parameters": model.sampler.count_params()}
    torch = None
    if args.torch:
        try:
            import torch
        except ImportError:
            print("torch is not installed: the PyTorch path is skipped (pip install torch)")
    if torch is not None:
        torch.set_num_threads(os.cpu_count())
        net = torch_unet(model)
        result["parameters_torch"], result["parity_max_abs"], result["torch_bf16_max_abs"] = check_parity(
            model, net, bf16)
        torch_noise = torch.from_numpy(noise.numpy().transpose(0, 3, 1, 2).copy())
        for name, autocast in (("torch", bf16), ("torch_float32", False))[:2 if bf16 else 1]:
            sample = torch_sampler(model, net, autocast)
            paths[name] = lambda sample=sample: sample(torch_noise, args.steps).numpy()
        result["torch_version"] = torch.__version__
        result["torch_threads"] = torch.get_num_threads()
    first = {}
    for name, fn in paths.items():  # trace / warm up
        start = time.perf_counter()
        fn()
        first[name] = round(time.perf_counter() - start, 2)
    gc.collect()
    gc.freeze()

    def timed(fn):
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    times = interleaved({name: (lambda fn=fn: timed(fn)) for name, fn in paths.items()}, args.rounds)
    stats = {name: round_stats(seconds) for name, seconds in times.items()}
    rates = {name: args.batch / stats[name]["best"] for name in paths}
    baseline = "torch" if "torch" in rates else "graph"
    result.update({"first_call_seconds": first, "round_seconds": times, "round_stats": stats,
                   "images_per_s": rates, "baseline": baseline,
                   "ratio_to_baseline": {name: rate / rates[baseline] for name, rate in rates.items()}})
    return result


def print_result(result):
    print(f"DDIM {result['size']}x{result['size']}, widths {result['widths']} ({result['parameters']} parameters), "
          f"batch {result['batch']}, {result['steps']} steps, {result['precision']} ({result['precision_reason']}); "
          f"{result['machine']}" + (f"; torch {result['torch_version']} ({result['torch_threads']} threads), "
                                    f"Keras vs PyTorch float32 max |diff| {result['parity_max_abs']:.2g}"
                                    + (f" (PyTorch bfloat16's own {result['torch_bf16_max_abs']:.2g})"
                                       if result["torch_bf16_max_abs"] is not None else "")
                                    if "torch_version" in result else ""))
    for name, rate in result["images_per_s"].items():
        stats = result["round_stats"][name]
        print(f"  {name:<13} {rate:8.2f} images/s  {result['ratio_to_baseline'][name]:6.3f}x {result['baseline']}  "
              f"first call {result['first_call_seconds'][name]:.1f} s, {len(result['round_seconds'][name])} rounds, "
              f"throttled {stats['throttled']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--widths", default="32,64,80", help="the U-Net's widths (DDIM's default)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--precision", default="auto", choices=("auto", "float32", "mixed_bfloat16"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no_eager", dest="eager", action="store_false", help="skip the step-by-step path")
    parser.add_argument("--no_torch", dest="torch", action="store_false",
                        help="skip PyTorch (to see whether its threads in the process slow the other paths)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    result = run(args)
    print_result(result)
    if args.json:
        write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
