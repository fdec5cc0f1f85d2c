"""Training steps/s: our `fit` path and `Trainer` against a minimal hand-written loop, in one process.

Every variant trains the identical networks (built by the same code, from the
same initial weights) with the same optimizers on the same in-memory batch.
A variant is a path, optionally with options joined by ``+``:

    fit | trainer | minimal | torch      the path (torch: PyTorch eager, reference_dcgan only)
    +xla                                  jit_compile=True (fit, trainer, minimal)
    +bf16 | +fp16                         mixed_bfloat16 / mixed_float16 policy (fit, trainer)
    +speN                                 steps_per_execution=N (fit)
    +cb                                   with the CLI's callbacks: a 64-sample PNG grid (`SampleGrid`) and
                                          TensorBoard scalars + a 16-sample grid each epoch (= each round)
    +fused                                StyleGAN2 only: modulated convolutions as grouped convolutions

Rounds are interleaved; every variant runs the same number of steps per round
(about --round_seconds of the baseline's steps) and its rate comes from its fastest round (stalls
only lengthen rounds: see `bench_common.round_stats`; the median of the
unthrottled rounds and process CPU time per step are in the JSON too).
What a call costs besides its steps (`fit`'s and `Trainer`'s per-call set-up)
is measured on one- and two-step calls and reported on its own (``per call``).
The FLOPs of one step are counted from the traced graphs of the minimal step
and of our `train_step` (they must agree: the same arithmetic), and the
achieved GFLOP/s is set against the float32 matmul peak measured in the same
process.

    python tools/bench_train_step.py                              # DCGAN 32x32, batch 64
    python tools/bench_train_step.py --model wgan_gp --size 64 --filters 32
    python tools/bench_train_step.py --model stylegan2 --filters 32 --latent 64 --steps 6 \
        --variants fit,trainer,minimal,minimal+fused                                # fused vs non-fused, one process
    python tools/bench_train_step.py --model ddim --filters 32                    # the default DDIM U-Net
    python tools/bench_train_step.py --model dcgan --variants fit,trainer,minimal,fit+xla,trainer+xla,fit+bf16
    python tools/bench_train_step.py --model reference_dcgan     # TF tutorial networks, batch 256 (+ torch)

oneDNN is switched on (TF_ENABLE_ONEDNN_OPTS=1) unless the variable is set.
"""

import argparse
import atexit
import gc
import os
import shutil
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench_common import count_flops, interleaved, machine, matmul_peak, round_stats, write_json  # noqa: E402
from keras_transfer_gan.data import load_images  # noqa: E402
from keras_transfer_gan.losses import gradient_penalty, kl_divergence  # noqa: E402
from keras_transfer_gan.models import DCGAN, DDIM, VAE, WGANGP, StyleGAN2  # noqa: E402
from keras_transfer_gan.models.ddim import diffusion_schedule  # noqa: E402
from keras_transfer_gan.models.stylegan2 import noise_input_shapes  # noqa: E402
from keras_transfer_gan.models.gan import GAN  # noqa: E402
from keras_transfer_gan.training import SampleGrid, TensorBoardLogger, Trainer, compile_for_training  # noqa: E402

warnings.filterwarnings("ignore", message=".*shuffle=True.*")
POLICIES = {"": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


# ------------------------------------------------------------------ networks
class TutorialDCGAN(GAN):
    """The TensorFlow DCGAN tutorial's networks (28x28x1, 100-d noise) trained by our `GAN.train_step`."""

    SUPPORTED_SIZES = (28,)

    def __init__(self, **kwargs):
        super().__init__(latent_dim=100, image_size=28, channels=1, **kwargs)

    def build_generator(self):
        layers = keras.layers
        z = keras.Input((100,))
        x = layers.Dense(7 * 7 * 256, use_bias=False)(z)
        x = layers.LeakyReLU()(layers.BatchNormalization()(x))
        x = layers.Reshape((7, 7, 256))(x)
        for filters, stride in ((128, 1), (64, 2)):
            x = layers.Conv2DTranspose(filters, 5, strides=stride, padding="same", use_bias=False)(x)
            x = layers.LeakyReLU()(layers.BatchNormalization()(x))
        x = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False)(x)
        return keras.Model(z, layers.Activation("tanh", dtype="float32")(x), name="generator")

    def build_discriminator(self):
        layers = keras.layers
        image = keras.Input((28, 28, 1))
        x = image
        for filters in (64, 128):
            x = layers.Conv2D(filters, 5, strides=2, padding="same")(x)
            x = layers.Dropout(0.3)(layers.LeakyReLU()(x))
        logits = layers.Dense(1)(layers.Flatten()(x))
        return keras.Model(image, layers.Activation("linear", dtype="float32")(logits), name="discriminator")


def build_model(args, fused=False):
    """The benchmarked model; `fused` (a variant's ``+fused``): StyleGAN2's modulated convolutions as grouped
    convolutions (the same weights and result)."""
    if fused and not args.model.startswith("stylegan2"):
        raise SystemExit("+fused is a StyleGAN2 option (--model stylegan2)")
    if args.model == "reference_dcgan":
        return TutorialDCGAN()
    if args.model == "vae":
        return VAE(latent_dim=args.latent, image_size=args.size, filters=args.filters)
    if args.model == "ddim":  # widths f, 2f, 2.5f (the default U-Net at --filters 32)
        return DDIM(image_size=args.size, widths=(args.filters, 2 * args.filters, 5 * args.filters // 2))
    if args.model.startswith("stylegan2"):  # stylegan2_fused: the modulated convolutions as grouped convolutions
        return StyleGAN2(latent_dim=args.latent, w_dim=args.latent, image_size=args.size, filters=args.filters,
                         max_filters=4 * args.filters, fused_modconv=fused or args.model.endswith("fused"))
    cls = WGANGP if args.model == "wgan_gp" else DCGAN
    extra = {"n_critic": args.n_critic} if args.model == "wgan_gp" else {}
    return cls(latent_dim=args.latent, image_size=args.size, g_filters=args.filters, d_filters=args.filters, **extra)


# ------------------------------------------------------------- minimal loops
def minimal_gan_step(model, jit_compile):
    """The textbook alternating GAN step: D on real and fake, then G; fresh `tf.random.normal` noise."""
    g, d, g_opt, d_opt, latent = model.generator, model.discriminator, model.g_optimizer, model.d_optimizer, \
        model.latent_dim
    bce = tf.nn.sigmoid_cross_entropy_with_logits

    @tf.function(jit_compile=jit_compile)
    def step(real):
        batch = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            fake = g(tf.random.normal([batch, latent]), training=True)
            real_logits, fake_logits = d(real, training=True), d(fake, training=True)
            d_loss = tf.reduce_mean(bce(labels=tf.ones_like(real_logits), logits=real_logits)
                                    + bce(labels=tf.zeros_like(fake_logits), logits=fake_logits))
        d_opt.apply_gradients(zip(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
        with tf.GradientTape() as tape:
            fake_logits = d(g(tf.random.normal([batch, latent]), training=True), training=True)
            g_loss = tf.reduce_mean(bce(labels=tf.ones_like(fake_logits), logits=fake_logits))
        g_opt.apply_gradients(zip(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))
        return g_loss

    return step


def minimal_wgan_gp_step(model, jit_compile):
    """WGAN-GP as in the paper's algorithm: n_critic critic steps with the gradient penalty, then G."""
    g, d, g_opt, d_opt, latent = model.generator, model.discriminator, model.g_optimizer, model.d_optimizer, \
        model.latent_dim
    critic = lambda x: d(x, training=True)  # noqa: E731

    @tf.function(jit_compile=jit_compile)
    def step(real):
        batch = tf.shape(real)[0]
        for _ in range(model.n_critic):
            with tf.GradientTape() as tape:
                fake = g(tf.random.normal([batch, latent]), training=True)
                gp = gradient_penalty(critic, real, fake, tf.random.uniform([batch]))
                d_loss = tf.reduce_mean(critic(fake) - critic(real) + model.gp_weight * gp)
            d_opt.apply_gradients(zip(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(critic(g(tf.random.normal([batch, latent]), training=True)))
        g_opt.apply_gradients(zip(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))
        return g_loss

    return step


def minimal_vae_step(model, jit_compile):
    """Reparameterised VAE step: summed squared error + beta * KL, one optimizer."""
    weights = model.trainable_variables

    @tf.function(jit_compile=jit_compile)
    def step(images):
        with tf.GradientTape() as tape:
            mean, log_var = model.encoder(images, training=True)
            z = mean + tf.exp(0.5 * log_var) * tf.random.normal(tf.shape(mean))
            out = model.decoder(z, training=True)
            rec = tf.reduce_sum(tf.square(images - out), axis=[1, 2, 3])
            loss = tf.reduce_mean(rec + model.beta * kl_divergence(mean, log_var))
        model.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    return step


def minimal_stylegan2_step(model, jit_compile):
    """StyleGAN2's step written out: D (non-saturating, lazy R1 every `r1_interval` steps), then G; fresh noise
    maps from `tf.random.normal`."""
    g, d, g_opt, d_opt, latent = model.generator, model.discriminator, model.g_optimizer, model.d_optimizer, \
        model.latent_dim
    shapes = [s for _, s in noise_input_shapes(model.image_size)]
    counter = tf.Variable(0, dtype=tf.int64, trainable=False)

    def fake_of(batch):
        return g([tf.random.normal([batch, latent]), *[tf.random.normal([batch, s, s, 1]) for s in shapes]],
                 training=True)

    def r1(real):
        with tf.GradientTape() as tape:
            tape.watch(real)
            logits = d(real, training=True)
        return tf.reduce_sum(tf.square(tape.gradient(logits, real)), axis=[1, 2, 3])

    @tf.function(jit_compile=jit_compile)
    def step(real):
        batch = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            real_logits, fake_logits = d(real, training=True), d(fake_of(batch), training=True)
            d_loss = tf.nn.softplus(fake_logits) + tf.nn.softplus(-real_logits)
            due = tf.equal(counter % model.r1_interval, 0)
            penalty = tf.cond(due, lambda: r1(tf.identity(real)), lambda: tf.zeros([batch]))
            d_loss = tf.reduce_mean(d_loss[:, 0] + 0.5 * model.r1_gamma * model.r1_interval * penalty)
        d_opt.apply_gradients(zip(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
        with tf.GradientTape() as tape:
            g_loss = tf.reduce_mean(tf.nn.softplus(-d(fake_of(batch), training=True)))
        g_opt.apply_gradients(zip(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))
        counter.assign_add(1)
        return g_loss

    return step


def minimal_ddim_step(model, jit_compile):
    """The diffusion step written out: a uniform time per image, the cosine schedule, the eps (or v) target, its
    mean squared error, Adam, then the EMA copy; fresh `tf.random` draws."""
    net, opt, ema, decay = model.denoiser, model.optimizer, model.denoiser_ema, model.ema_decay

    @tf.function(jit_compile=jit_compile)
    def step(images):
        batch = tf.shape(images)[0]
        noise, signal = diffusion_schedule(tf.random.uniform([batch]), model.min_signal_rate, model.max_signal_rate)
        n, s = noise[:, None, None, None], signal[:, None, None, None]
        eps = tf.random.normal(tf.shape(images))
        noisy = s * images + n * eps
        target = eps if model.prediction == "eps" else s * eps - n * images
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(net([noisy, noise], training=True) - target))
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
        if ema is not None:
            for average, weight in zip(ema.weights, net.weights):
                average.assign(decay * average + (1.0 - decay) * weight)
        return loss

    return step


MINIMAL = {"dcgan": minimal_gan_step, "reference_dcgan": minimal_gan_step, "wgan_gp": minimal_wgan_gp_step,
           "vae": minimal_vae_step, "stylegan2": minimal_stylegan2_step, "stylegan2_fused": minimal_stylegan2_step,
           "ddim": minimal_ddim_step}


# -------------------------------------------------------------------- torch
def torch_reference_step(batch_size):
    """The same tutorial networks and alternating step in PyTorch eager (NCHW)."""
    import torch
    from torch import nn

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    gen = nn.Sequential(
        nn.Linear(100, 7 * 7 * 256, bias=False), nn.BatchNorm1d(7 * 7 * 256), nn.LeakyReLU(0.2),
        nn.Unflatten(1, (256, 7, 7)),
        nn.ConvTranspose2d(256, 128, 5, 1, 2, bias=False), nn.BatchNorm2d(128, momentum=0.01), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(128, 64, 5, 2, 2, output_padding=1, bias=False), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(64, 1, 5, 2, 2, output_padding=1, bias=False), nn.Tanh(),
    )
    disc = nn.Sequential(
        nn.Conv2d(1, 64, 5, 2, 2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, 2, 2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1),
    )
    g_opt = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(batch_size, 1, 28, 28) * 2 - 1
    ones, zeros = torch.ones(batch_size, 1), torch.zeros(batch_size, 1)

    def step():
        d_opt.zero_grad(set_to_none=True)
        fake = gen(torch.randn(batch_size, 100))
        d_loss = bce(disc(real), ones) + bce(disc(fake.detach()), zeros)
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad(set_to_none=True)
        g_loss = bce(disc(gen(torch.randn(batch_size, 100))), ones)
        g_loss.backward()
        g_opt.step()
        return float(g_loss.detach())

    return step, torch.__version__


# ------------------------------------------------------------------ variants
def parse_variant(spec):
    path, *options = spec.split("+")
    if path not in ("fit", "trainer", "minimal", "torch"):
        raise SystemExit(f"unknown path {path!r} in variant {spec!r} (fit, trainer, minimal, torch)")
    parsed = {"path": path, "xla": False, "precision": "", "spe": 1, "cb": False, "fused": False}
    for option in options:
        if option == "xla":
            parsed["xla"] = True
        elif option == "fused":
            parsed["fused"] = True
        elif option in ("bf16", "fp16"):
            parsed["precision"] = option
        elif option == "cb":
            parsed["cb"] = True
        elif option.startswith("spe") and option[3:].isdigit():
            parsed["spe"] = int(option[3:])
        else:
            raise SystemExit(f"unknown option {option!r} in variant {spec!r} (xla, bf16, fp16, speN, cb, fused)")
    if parsed["fused"] and path == "torch":
        raise SystemExit(f"{spec}: fused is an option of the StyleGAN2 paths")
    if (parsed["precision"] or parsed["cb"]) and path in ("minimal", "torch"):
        raise SystemExit(f"{spec}: mixed precision and callbacks are measured on fit and trainer only")
    return parsed


def make_runner(spec, args, weights, batch, data_of):
    """``(run(steps), model or None)`` for one variant: `run` trains `steps` steps and returns when they are done."""
    v = parse_variant(spec)
    if v["path"] == "torch":
        step, _ = torch_reference_step(args.batch)

        def run_torch(steps):
            for _ in range(steps):
                step()

        return run_torch, None
    keras.mixed_precision.set_global_policy(POLICIES[v["precision"]])
    try:
        model = build_model(args, fused=v["fused"])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model.set_weights(weights)
    compile_kwargs = {"jit_compile": v["xla"]} if v["path"] == "fit" else {}
    compile_for_training(model, steps_per_execution=v["spe"], **compile_kwargs)
    callbacks = []
    if v["cb"]:
        out = tempfile.mkdtemp(prefix="ktg_bench_")
        atexit.register(shutil.rmtree, out, ignore_errors=True)
        callbacks = [SampleGrid(out, n=64), TensorBoardLogger(os.path.join(out, "tensorboard"))]
    if v["path"] == "minimal":
        step = MINIMAL[args.model](model, v["xla"])
        if not v["xla"]:
            model.bench_minimal_step = step  # traced already when FLOPs are counted

        def run_minimal(steps):
            for real in data_of(steps):
                out = step(real)
            float(out)

        return run_minimal, model
    if v["path"] == "trainer":
        trainer = Trainer(model, verbose=0, jit_compile=v["xla"], callbacks=callbacks)

        def run_trainer(steps):
            trainer.fit(data_of(steps), epochs=1)

        return run_trainer, model

    def run_fit(steps):
        model.fit(data_of(steps), epochs=1, verbose=0, callbacks=callbacks)

    return run_fit, model


def step_flops(args, model, batch, which):
    """FLOPs of one step, counted on the minimal step and (``which == "both"``) on our `train_step`."""
    spec = tf.TensorSpec(batch.shape, tf.float32)
    step = getattr(model, "bench_minimal_step", None) or MINIMAL[args.model](model, False)
    minimal = count_flops(step.get_concrete_function(spec))
    ours = count_flops(tf.function(model.train_step).get_concrete_function(spec)) if which == "both" else None
    return minimal, ours


def run(args):
    keras.utils.set_random_seed(0)
    images, _ = load_images("digits", image_size=args.size)
    batch = tf.constant(np.resize(images, (args.batch, *images.shape[1:])))
    cache = {}

    def data_of(steps):
        if steps not in cache:
            cache[steps] = tf.data.Dataset.from_tensors(batch).repeat(steps).cache()
        return cache[steps]

    weights = build_model(args).get_weights()
    variants = [s for s in args.variants.split(",") if s]
    torch_version = None
    if "torch" in variants:
        try:
            import torch

            torch_version = torch.__version__
        except ImportError:
            print("torch is not installed: the PyTorch baseline is skipped (pip install torch==2.13.0)")
            variants.remove("torch")
    if any(parse_variant(s)["path"] == "torch" for s in variants) and args.model != "reference_dcgan":
        raise SystemExit("the torch baseline has the reference_dcgan networks only")
    runners, models = {}, {}
    for spec in variants:
        runners[spec], models[spec] = make_runner(spec, args, weights, batch, data_of)
    cpu = {spec: [] for spec in runners}

    def timed(spec, n):
        """Wall seconds of `n` steps of a variant (its CPU seconds are kept in `cpu`)."""
        wall, start = time.perf_counter(), time.process_time()
        runners[spec](n)
        cpu[spec].append(time.process_time() - start)
        return time.perf_counter() - wall

    first_call = {spec: round(timed(spec, 1), 2) for spec in runners}  # trace, compile, one step
    baseline = "minimal" if "minimal" in runners else variants[0]
    # What one more call costs besides its step: fit's and Trainer's set-up per call (iterator, callbacks,
    # epoch bookkeeping), measured on one-step calls against two calls of the same path. Recorded, not mixed
    # into the step rate: a user pays it once per `fit`, not once per step.
    one_step = {spec: min(timed(spec, 1) for _ in range(3)) for spec in runners}
    two_steps = {spec: min(timed(spec, 2) for _ in range(2)) for spec in runners}
    per_call = {spec: max(0.0, 2 * one_step[spec] - two_steps[spec]) for spec in runners}
    # Every variant runs the same number of steps per round, sized from the baseline's step: sizing each
    # from its own first one-step call gave a path with a per-call cost fewer steps per round, which then
    # charged that cost to each of its steps several times over.
    step_seconds = max(1e-4, two_steps[baseline] - one_step[baseline])
    n = args.steps or int(min(100, max(1, round(args.round_seconds / step_seconds))))
    steps = {spec: n for spec in runners}
    for values in cpu.values():
        values.clear()  # only the timed rounds count

    # Tracing leaves large object graphs behind: collect them now and keep the collector from walking them
    # again in the middle of a timed round.
    gc.collect()
    gc.freeze()
    times = interleaved({spec: (lambda spec=spec: timed(spec, steps[spec])) for spec in runners}, args.rounds)
    stats = {spec: round_stats(seconds) for spec, seconds in times.items()}
    rates = {spec: steps[spec] / stats[spec]["best"] for spec in runners}
    flops_model = models.get("minimal") or next(m for m in models.values() if m is not None)
    minimal_flops, our_flops = step_flops(args, flops_model, batch, args.flops)
    if our_flops is not None and abs(our_flops["total"] / minimal_flops["total"] - 1) > 1e-3:
        print(f"warning: our step counts {our_flops['total']} FLOPs, the minimal one {minimal_flops['total']}")
    peak = args.peak_gflops or (matmul_peak() if args.peak else None)
    flops = minimal_flops["total"]
    result = {
        "model": args.model, "config": vars(args), "machine": machine(), "steps_per_round": steps,
        "steps_per_s": rates, "round_seconds": times, "round_stats": stats,
        "steps_per_s_median": {spec: steps[spec] / stats[spec]["median"] for spec in runners},
        "cpu_seconds_per_step": {spec: float(np.median(cpu[spec])) / steps[spec] for spec in runners},
        "throttled_rounds": {spec: stats[spec]["throttled"] for spec in runners},
        "first_call_seconds": first_call, "per_call_overhead_ms": {spec: 1000 * v for spec, v in per_call.items()},
        "baseline": baseline,
        "ratio_to_baseline": {spec: rates[spec] / rates[baseline] for spec in rates},
        "flops_per_step": {"minimal": minimal_flops, "ours": our_flops},
        "gflops_per_s": {spec: rate * flops / 1e9 for spec, rate in rates.items()},
        "matmul_peak_gflops": peak,
    }
    if peak:
        result["fraction_of_peak"] = {spec: g / peak for spec, g in result["gflops_per_s"].items()}
    if torch_version:
        result["torch_version"] = torch_version
    return result


def print_result(result):
    args = result["config"]
    shape = "28x28 (TF tutorial networks)" if result["model"] == "reference_dcgan" else f"{args['size']}x{args['size']}"
    filters = "" if result["model"] == "reference_dcgan" else f", filters {args['filters']}"
    print(f"{result['model']} {shape}, batch {args['batch']}{filters}; {result['machine']}")
    minimal, ours = result["flops_per_step"]["minimal"]["total"], result["flops_per_step"]["ours"]
    line = f"  FLOPs per step (conv + matmul, counted): minimal {minimal / 1e9:.2f} G"
    print(line + (f", ours {ours['total'] / 1e9:.2f} G" if ours else ""))
    peak = result["matmul_peak_gflops"]
    for spec, rate in result["steps_per_s"].items():
        line = (f"  {spec:<14} {rate:8.2f} steps/s  {result['ratio_to_baseline'][spec]:6.3f}x {result['baseline']}"
                f"  {result['gflops_per_s'][spec]:7.1f} GFLOP/s")
        if peak:
            line += f" ({100 * result['fraction_of_peak'][spec]:.0f}% of peak)"
        line += (f"  first call {result['first_call_seconds'][spec]:.1f} s, per call +"
                 f"{result['per_call_overhead_ms'][spec]:.0f} ms, {result['steps_per_round'][spec]} steps x "
                 f"{len(result['round_seconds'][spec])} rounds, throttled {result['throttled_rounds'][spec]}")
        print(line)
    if peak:
        print(f"  float32 matmul peak: {peak:.1f} GFLOP/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dcgan", choices=sorted(MINIMAL))
    parser.add_argument("--size", type=int, default=32, help="image size (16, 32, 64, 128; reference_dcgan: 28)")
    parser.add_argument("--batch", type=int, default=None, help="default 64 (reference_dcgan: 256)")
    parser.add_argument("--filters", type=int, default=64, help="g_filters = d_filters (VAE: filters)")
    parser.add_argument("--latent", type=int, default=100)
    parser.add_argument("--n_critic", type=int, default=5, help="wgan_gp: critic steps per generator step")
    parser.add_argument("--variants", default="fit,trainer,minimal",
                        help="comma-separated variants (see the module docstring)")
    parser.add_argument("--steps", type=int, default=None, help="steps per round (default: sized by --round_seconds)")
    parser.add_argument("--round_seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--flops", choices=["both", "minimal"], default="both",
                        help="count FLOPs on the minimal step and our train_step (both: one more trace), or minimal only")
    parser.add_argument("--no_peak", dest="peak", action="store_false", help="skip the matmul peak")
    parser.add_argument("--peak_gflops", type=float, default=None,
                        help="use this matmul peak (measured elsewhere, e.g. by the suite) instead of measuring")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.model == "reference_dcgan":
        args.size, args.batch = 28, args.batch or 256
    args.batch = args.batch or 64
    result = run(args)
    print_result(result)
    if args.json:
        write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
