"""Run in a fresh process by tests/test_export.py: load each export with `tf.saved_model.load`, call every
signature on the inputs in ``inputs.npz`` and replay the warmup requests; write the outputs."""

import json
import os
import sys

import numpy as np
import tensorflow as tf


def main(base):
    cases = json.load(open(os.path.join(base, "cases.json")))
    inputs = np.load(os.path.join(base, "inputs.npz"))
    out, warm = {}, {}
    from keras_transfer_gan.export import read_warmup_requests

    for export_dir, signatures in cases.items():
        loaded = tf.saved_model.load(export_dir)
        for sig, names in signatures.items():
            args = {n: tf.constant(inputs[f"{export_dir}|{sig}|{n}"]) for n in names}
            for key, value in loaded.signatures[sig](**args).items():
                out[f"{export_dir}|{sig}|{key}"] = value.numpy()
        replies = 0
        for sig, request in read_warmup_requests(os.path.join(export_dir, "assets.extra", "tf_serving_warmup_requests")):
            loaded.signatures[sig](**{k: tf.constant(v) for k, v in request.items()})
            replies += 1
        warm[export_dir] = replies
    np.savez(os.path.join(base, "outputs.npz"), **out)
    json.dump(warm, open(os.path.join(base, "warmup.json"), "w"))


if __name__ == "__main__":
    main(sys.argv[1])
