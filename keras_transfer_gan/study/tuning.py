"""The study's hyperparameters, chosen on held-out KID from the train split (never the test split).

For one target, N and seed (a draw of its own, not one of the study's), each method's sweep trains one arm
per value and keeps the value whose run reaches the lowest KID against the held-out train images (the
checkpoint best-checkpoint selection would keep). The trials are measured against the held-out images only:
the test split is not loaded. Knobs are tuned one after another, each at the values chosen before it:

- the shared ones on the plain transfer arm (``freeze_d``, then ``learning_rate``) and the baseline's
  ``learning_rate``; every other transfer arm starts from the plain transfer arm's choices;
- then each method's own strength: ``cdc``, ``ewc``, ``ada_target``.

A learning-rate sweep whose best value is its highest (or lowest) goes on one more step that way, by the sweep's
own ratio, up to `EDGE_STEPS` times: a best at the sweep's edge says the sweep did not bracket the optimum.

Beside the choice on every held-out image (up to `StudySettings.held_out`), the choice a user with N images
could make is recorded: the same KID against only N held-out images (``choices_small``).
"""

from keras_transfer_gan.study.arms import parse_method, run_arm
from keras_transfer_gan.study.run_cache import RunCache, code_digest
from keras_transfer_gan.utils.digest import array_digest

#: The values each knob's sweep tries.
SWEEPS = {
    "freeze_d": (1, 2, 3),
    "learning_rate": (0.5, 1.0, 2.0),  # multiples of the source's default (a DCGAN: 1e-4, 2e-4, 4e-4)
    "cdc": (100.0, 1000.0, 10000.0),
    "ewc": (0.01, 0.1, 1.0),
    "ada_target": (0.4, 0.6, 0.8),
    "freeze_g": (1, 2, 3),
    "pairwise": (0.1, 1.0, 10.0),
}
#: A diffusion source's learning rates (multiples of its default, 1e-3 for a DDIM: keras-io's from-scratch rate).
#: At the study's budget (about 170 DDIM steps on the close target) every arm wants a high rate: a first sweep of
#: 0.1-3x found whole fine-tuning's and LoRA's best at its top edge (held-out KID at N=10, 0.1x to 3x: whole 0.114,
#: 0.054, 0.040, 0.038; LoRA 0.636, 0.413, 0.123, 0.068), so the sweep moved up one step: 0.3-10x (whole: 10x
#: diverged, 0.727; LoRA: still best at 10x, 0.050, which `EDGE_STEPS` now carries on past).
DIFFUSION_LEARNING_RATES = (0.3, 1.0, 3.0, 10.0)
#: How many values a learning-rate sweep adds past its edge while its best value sits there.
EDGE_STEPS = 2
#: The arm whose choices of the shared knobs every transfer arm starts from.
PLAIN_TRANSFER = "trgan+freeze_d+diffaugment"


def knobs(method):
    """The knobs `method`'s sweep tunes, in order: the shared ones (only on the baseline and the plain transfer
    arm), then its own strength."""
    settings = parse_method(method)
    own = [k for k, on in (("cdc", settings["cdc"]), ("ewc", settings["ewc"]), ("ada_target", settings["ada"]),
                           ("freeze_g", settings["freeze_g"]), ("pairwise", settings["pairwise"])) if on]
    if settings["base"] == "scratch":
        return ["learning_rate"] + own
    if method == PLAIN_TRANSFER:
        return ["freeze_d", "learning_rate"]
    if settings["base"] == "diffusion":  # each diffusion arm its own learning rate (LoRA and adaptors want more)
        return ["learning_rate"] + own
    return own or (["learning_rate"] if settings["scale_shift"] or settings["latent_adaptor"] else [])


def _sweep(knob, target):
    """The values of `knob` to try: `SWEEPS`, Freeze-D and FreezeG depths only as deep as the source's networks
    (FreezeG leaves at least one block to train), learning rates as multiples of the source's default
    (`DIFFUSION_LEARNING_RATES` for a diffusion source)."""
    if knob == "freeze_d":
        return tuple(v for v in SWEEPS[knob] if v <= len(target.source.discriminator_blocks()))
    if knob == "freeze_g":
        return tuple(v for v in SWEEPS[knob] if v < len(target.source.generator_blocks()))
    if knob == "learning_rate":
        default = type(target.source).optimizer_defaults["learning_rate"]
        factors = DIFFUSION_LEARNING_RATES if target.source.family == "diffusion" else SWEEPS[knob]
        return tuple(round(default * factor, 12) for factor in factors)
    return SWEEPS[knob]


def _explicit(weights, method, target):
    """`weights` with the defaults they leave out written in (the source's learning rate, the study's Freeze-D
    depth), so a trial at a default value and one naming it share a cache key: it runs once."""
    explicit = dict(weights)
    explicit.setdefault("learning_rate", type(target.source).optimizer_defaults["learning_rate"])
    if parse_method(method)["freeze_d"]:
        explicit.setdefault("freeze_d", target.settings.freeze_d)
    return explicit


def _order(methods):
    """The baseline and the plain transfer arm first: the others start from their choices."""
    return sorted(methods, key=lambda m: (m != PLAIN_TRANSFER, m))


def _beyond_edge(scores):
    """The next learning rate past the sweep's edge where its best value sits there (by the ratio of the two
    values at that end), else None."""
    values = sorted(t["value"] for t in scores)
    if len(values) < 2:
        return None
    best = min(scores, key=lambda t: t["kid"])["value"]
    if best == values[-1]:
        return round(values[-1] * values[-1] / values[-2], 12)
    if best == values[0]:
        return round(values[0] * values[0] / values[1], 12)
    return None


def tune(target, n, seed, methods, cache_dir, report=print, edge_steps=EDGE_STEPS):
    """Sweep each method's `knobs` on one draw (`n`, `seed`) of `target`; ``{"choices", "choices_small", "trials",
    "held_out", "held_out_small"}``. Trials are cached like study runs (`RunCache`), so a rerun resumes. A
    learning-rate sweep extends past its edge while its best sits there, up to `edge_steps` values."""
    s, cache, code = target.settings, RunCache(cache_dir), code_digest()
    images, held_out = target.draw_train(n, seed)  # the test split is never read
    small = held_out[:n]
    draw = array_digest(images, held_out)
    choices, choices_small, trials = {}, {}, []
    for method in _order(methods):
        settings = parse_method(method)
        start = dict(choices.get(PLAIN_TRANSFER, {})) if settings["base"] != "scratch" else {}
        chosen, chosen_small = dict(start), dict(start)
        for knob in knobs(method):
            swept = _sweep(knob, target)
            scores, values = [], list(swept)
            while values:
                value = values.pop(0)
                weights = _explicit({**chosen, knob: value}, method, target)
                key = {"tuning": True, "target": target.label, "n": n, "seed": seed, "method": method,
                       "weights": weights, "source_sha256": target.source_sha256, "dataset": target.dataset,
                       "draw": draw, "steps": s.steps, "eval_every": s.eval_every, "batch_size": s.batch_size,
                       "n_fake": s.n_fake, "extractor": target.extractor.cache_name, "code": code}
                trial = cache.get(key)
                if trial is None:
                    run = run_arm(method, target.source, images, s.steps, s.eval_every, held_out, target.extractor,
                                  batch_size=s.batch_size, seed=seed, n_fake=s.n_fake, held_out=held_out,
                                  small_held_out=small, weights=weights, freeze_d=weights.get("freeze_d", s.freeze_d),
                                  measure=False)  # a trial reads the held-out KIDs only
                    trial = {"method": method, "knob": knob, "value": value, "weights": weights,
                             "kid": min(p["held_out_kid"] for p in run["curve"]),
                             "kid_small": min(p["held_out_kid_small"] for p in run["curve"]),
                             "train_seconds": run["train_seconds"]}
                    cache.put(key, trial)
                trial = {**trial, "knob": knob, "value": value}  # a run shared by two sweeps: this one's
                trials.append(trial)
                scores.append(trial)
                if report is not None:
                    report(f"tune {target.label} N={n} {method} {knob}={value:g}: held-out KID {trial['kid']:.4f} "
                           f"(on {len(small)}: {trial['kid_small']:.4f})")
                if not values and knob == "learning_rate" and len(scores) - len(swept) < edge_steps:
                    values = [v for v in [_beyond_edge(scores)] if v is not None]
            chosen[knob] = min(scores, key=lambda t: t["kid"])["value"]
            chosen_small[knob] = min(scores, key=lambda t: t["kid_small"])["value"]
        choices[method], choices_small[method] = chosen, chosen_small
    return {"choices": choices, "choices_small": choices_small, "trials": trials, "held_out": int(len(held_out)),
            "held_out_small": int(len(small)), "n": n, "seed": seed, "target": target.label}


def choices_table(tunings):
    """Markdown lines: per target and N, each method's chosen values on every held-out image and on N of them."""
    lines = ["| target | N | method | chosen (held-out KID, all held-out images) | chosen (held-out KID on N images) "
             "| trials |", "|---|---|---|---|---|---|"]
    for t in tunings:
        for method, chosen in t["choices"].items():
            def text(values):
                return ", ".join(f"{k} {v:g}" for k, v in values.items()) or "defaults"
            count = sum(1 for trial in t["trials"] if trial["method"] == method)
            lines.append(f"| {t['target']} | {t['n']} | {method} | {text(chosen)} (on {t['held_out']}) | "
                         f"{text(t['choices_small'][method])} (on {t['held_out_small']}) | {count} |")
    return lines
