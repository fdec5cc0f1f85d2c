"""Text transfer versus scratch: held-out perplexity against steps for small target corpora.

    python tools/text_transfer_study.py --out docs            # about 20 minutes on 2 CPU cores
    python tools/text_transfer_study.py --sizes 2000 --seeds 0 --steps 100 --out /tmp/t   # smoke run

The source is the zoo's `charlstm_pydocs` (docstrings of 73 standard-library modules); the target is
Python's license text (`pylicense`, 13,936 characters of legal prose). The target is cut into 20 chunks;
every fifth chunk (20%, about 2,800 characters) is the held-out text, never trained on, and the training
corpora are the first 2,000 and 5,000 characters of the rest and all of it (about 11,100). For each
corpus and seed, three arms train for --steps steps (batch --batch_size, windows of --seq_len) and are
measured every --eval_every steps:

- ``scratch``: the source's architecture, freshly initialised, with the target's vocabulary;
- ``transfer``: `recipes.text` (vocabulary carried by character, everything fine-tuned);
- ``transfer+freeze_embedding``: the same with the embedding kept as transferred.

Writes ``text_transfer.md`` (best and last perplexity, the step of the best, samples), ``text_transfer.png``
(perplexity against steps) and ``text_transfer.json`` to --out.
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_transfer_gan.data import Vocabulary, load_text, text_dataset  # noqa: E402
from keras_transfer_gan.registry import build_model  # noqa: E402
from keras_transfer_gan.training import HeldOutPerplexity, Trainer, compile_for_training  # noqa: E402
from keras_transfer_gan import tasks as recipes  # noqa: E402
from keras_transfer_gan.transfer import load_pretrained  # noqa: E402

ARMS = ("scratch", "transfer", "transfer+freeze_embedding")


def split_corpus(text, chunks=20, every=5):
    """``(training pool, held-out text)``: every `every`-th of `chunks` equal chunks is held out."""
    size = len(text) // chunks
    parts = [text[i * size:(i + 1) * size] for i in range(chunks)]
    held = "".join(p for i, p in enumerate(parts) if i % every == every - 1)
    pool = "".join(p for i, p in enumerate(parts) if i % every != every - 1)
    return pool, held


def run(arm, source, corpus, held_out, args, seed):
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    if arm == "scratch":
        config = source.get_config()
        model = build_model("char_lstm", vocabulary=Vocabulary.from_text(corpus), embedding_dim=config["embedding_dim"],
                            units=config["units"], seed=seed)
        compile_for_training(model, learning_rate=args.lr)
        tracker = HeldOutPerplexity(held_out, args.seq_len)
        windows = (len(corpus) - 1) // args.seq_len
        data = text_dataset(corpus, model.vocabulary, seq_len=args.seq_len, batch_size=min(args.batch_size, windows),
                            seed=seed).repeat()
        Trainer(model, callbacks=[tracker], verbose=0).fit(data, epochs=args.steps // args.eval_every,
                                                            steps_per_epoch=args.eval_every)
        curve = tracker.history
    else:
        result = recipes.text(source, corpus, steps=args.steps, eval_every=args.eval_every, seq_len=args.seq_len,
                              batch_size=args.batch_size, freeze_embedding=arm.endswith("freeze_embedding"),
                              held_out=held_out, learning_rate=args.finetune_lr, seed=seed)
        model, curve = result.model, result.extra["perplexity"]
    best = min(curve, key=lambda p: p["perplexity"])
    return {"arm": arm, "seed": seed, "chars": len(corpus), "curve": curve, "best": best,
            "last": curve[-1]["perplexity"], "seconds": round(time.perf_counter() - start, 1),
            "sample": model.generate("Python ", length=160, temperature=0.5, seed=seed)}


def plot(runs, sizes, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sizes), figsize=(4.6 * len(sizes), 3.6), squeeze=False, sharey=True)
    for ax, n in zip(axes[0], sizes):
        for arm in ARMS:
            arm_runs = [r for r in runs if r["size"] == n and r["arm"] == arm]
            if arm_runs:
                steps = [p["step"] for p in arm_runs[0]["curve"]]
                curves = np.array([[p["perplexity"] for p in r["curve"]] for r in arm_runs])
                ax.plot(steps, curves.mean(0), marker="o", ms=2, label=arm)
        ax.set_yscale("log")
        ax.set_title(f"{arm_runs[0]['chars']:,} target characters")
        ax.set_xlabel("training steps")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("held-out perplexity")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="charlstm_pydocs")
    parser.add_argument("--target", default="pylicense")
    parser.add_argument("--sizes", default="2000,5000,all")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--eval_every", type=int, default=50)
    parser.add_argument("--seq_len", type=int, default=64)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=None, help="scratch's learning rate (default: the model's, 2e-3)")
    parser.add_argument("--finetune_lr", type=float, default=5e-4, help="the transfer arms' learning rate (at 2e-3 "
                        "the transferred model leaves its good start within 25 steps)")
    parser.add_argument("--out", default="docs")
    args = parser.parse_args(argv)
    source = load_pretrained(args.source)
    pool, held_out = split_corpus(load_text(args.target))
    sizes = args.sizes.split(",")
    runs, start = [], time.perf_counter()
    for size in sizes:
        corpus = pool if size == "all" else pool[:int(size)]
        for seed in (int(s) for s in args.seeds.split(",")):
            for arm in ARMS:
                result = run(arm, source, corpus, held_out, args, seed)
                result["size"] = size
                runs.append(result)
                print(f"{len(corpus):>6} chars seed={seed} {arm:<26} perplexity {result['curve'][0]['perplexity']:7.2f}"
                      f" -> best {result['best']['perplexity']:6.2f} (step {result['best']['step']}), last "
                      f"{result['last']:6.2f}  [{result['seconds']:.0f} s]", flush=True)
    total = time.perf_counter() - start
    os.makedirs(args.out, exist_ok=True)
    command = "python tools/text_transfer_study.py " + " ".join(argv if argv is not None else sys.argv[1:])
    with open(os.path.join(args.out, "text_transfer.json"), "w") as f:
        json.dump({"settings": vars(args), "command": command.strip(), "seconds": round(total, 1),
                   "held_out_chars": len(held_out), "runs": runs}, f, indent=1)
    plot(runs, sizes, os.path.join(args.out, "text_transfer.png"))
    lines = ["# Text transfer: held-out perplexity, transfer vs scratch", "",
             f"Command: `{command.strip()}` ({total / 60:.1f} minutes on {os.cpu_count()} CPU cores, "
             f"{platform.machine()}).", "",
             f"Source `{args.source}`; target `{args.target}`: {len(held_out):,} held-out characters (every fifth "
             f"of 20 chunks), training corpora the first 2,000 / 5,000 characters of the rest and all of it. "
             f"{args.steps} steps of batch {args.batch_size} (or every window, for a corpus with fewer), windows of "
             f"{args.seq_len}; perplexity every {args.eval_every} steps; learning rate {args.lr or 2e-3:g} from scratch, "
             f"{args.finetune_lr:g} for the transfer arms; mean +- std over seeds {args.seeds}.", "",
             "| target characters | arm | perplexity at step 0 | best perplexity (step) | last perplexity |",
             "|---|---|---|---|---|"]
    for size in sizes:
        for arm in ARMS:
            arm_runs = [r for r in runs if r["size"] == size and r["arm"] == arm]
            best = [r["best"]["perplexity"] for r in arm_runs]
            lines.append(f"| {arm_runs[0]['chars']:,} | {arm} | {np.mean([r['curve'][0]['perplexity'] for r in arm_runs]):.2f}"
                         f" | {np.mean(best):.2f} +- {np.std(best):.2f} ({np.mean([r['best']['step'] for r in arm_runs]):.0f})"
                         f" | {np.mean([r['last'] for r in arm_runs]):.2f} |")
    lines += ["", "![perplexity against steps](text_transfer.png)", "", "## Samples (temperature 0.5, prompt `Python `, "
              "the last step, seed 0)", ""]
    for size in sizes:
        for arm in ARMS:
            r = next(r for r in runs if r["size"] == size and r["arm"] == arm and r["seed"] == runs[0]["seed"])
            lines += [f"**{r['chars']:,} characters, {arm}**", "", "```", r["sample"], "```", ""]
    with open(os.path.join(args.out, "text_transfer.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
