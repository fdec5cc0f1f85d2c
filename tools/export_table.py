"""Measure every TFLite mode on the zoo's generators and list each architecture's serving signatures.

    python tools/export_table.py [--out docs]

Writes ``export_table.md`` (the README's export tables) and ``export_table.json``: for `dcgan_digits`
(DCGAN generator), `acgan_digits` (conditional generator), `vae_digits` (decoder) and `charlstm_pydocs`
(next-token logits, 32 characters, unrolled LSTMs), each quantization mode's file size and max / mean
absolute error against Keras over 16 inputs of batch 1 (int8 calibrated on 64 generated inputs).
"""

import argparse
import json
import os
import sys
import tempfile

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keras_transfer_gan import load_pretrained  # noqa: E402
from keras_transfer_gan.data import Vocabulary  # noqa: E402
from keras_transfer_gan.export import build_signatures, export_tflite  # noqa: E402
from keras_transfer_gan.registry import build_model, get_entry, list_models  # noqa: E402

CHECKPOINTS = "dcgan_digits,acgan_digits,vae_digits,charlstm_pydocs"
MODES = ("none", "float16", "dynamic", "int8")


def signature_rows():
    """Every registered architecture's signatures, from its tiny configuration."""
    rows = []
    for name in list_models():
        kwargs = {"vocabulary": Vocabulary.from_text("abc")} if get_entry(name).consumes == "text" else {}
        model = build_model(name, tiny=True, **kwargs)
        parts = []
        for sig in build_signatures(model).values():
            inputs = ", ".join(f"{s.name} {s.dtype.name}{list(s.shape)}".replace("None", "-1") for s in sig.specs)
            parts.append(f"`{sig.name}({inputs}) -> {', '.join(sig.outputs)}`")
        rows.append(f"| `{name}` | {'<br>'.join(parts)} |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs")
    parser.add_argument("--checkpoints", default=CHECKPOINTS, help="zoo checkpoints to convert (comma list); each "
                        "converts its architecture's default signature")
    args = parser.parse_args()
    results = {}
    lines = ["| model (signature) | mode | size | max abs error | mean abs error |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.checkpoints.split(","):
            model = load_pretrained(name)
            for mode in MODES:
                report = export_tflite(model, os.path.join(tmp, f"{name}_{mode}.tflite"), mode, n_eval=16)
                results[f"{name}/{mode}"] = report.as_dict()
                lines.append(f"| `{name}` ({report.signature}) | {mode} | {report.size_bytes / 1e3:.0f} kB | "
                             f"{report.max_abs_error:.2e} | {report.mean_abs_error:.2e} |")
                print(lines[-1], flush=True)
    text = ["## Serving signatures", "", "| architecture | signatures (inputs -> outputs) |", "|---|---|",
            *signature_rows(), "", "## TFLite (LiteRT) size and error against Keras", "",
            "Measured by `python tools/export_table.py` on the zoo checkpoints: batch 1, 16 evaluation inputs "
            "(fixed seeds), outputs in [-1, 1] for images and logits for text.", "", *lines, ""]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "export_table.md"), "w") as f:
        f.write("\n".join(text))
    with open(os.path.join(args.out, "export_table.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("\n".join(text))


if __name__ == "__main__":
    main()
