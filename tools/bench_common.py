"""What the benchmark tools share: machine facts, interleaved timing, the matmul peak and FLOP counting.

Not a public module of the package: imported by the scripts next to it (`python tools/bench_*.py`), which
set `TF_ENABLE_ONEDNN_OPTS=1` before TensorFlow is imported unless the variable is already set.
"""

import json
import os
import platform
import time

import numpy as np
import tensorflow as tf

#: A round over this multiple of the path's fastest round counts as throttled.
THROTTLE_FACTOR = 1.3


def machine():
    """One line: CPU model, its vector extensions (AVX2, AVX512F, AVX512_BF16, AMX...), cores, TensorFlow /
    Keras versions and whether oneDNN is on: a figure from an AVX2-only CPU does not hold on one with
    AVX512_BF16."""
    import keras

    from keras_transfer_gan.training.precision import cpu_features

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    # oneDNN's ISA cap (e.g. AVX2 on an AVX-512 CPU, to approximate an AVX2-only machine) changes the figures
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return (f"{cpu} ({cpu_features()}), {os.cpu_count()} cores; TensorFlow {tf.__version__}, Keras {keras.__version__}, "
            f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset')}"
            + (f", ONEDNN_MAX_CPU_ISA={cap}" if cap else ""))


def write_json(path, data):
    """Write a benchmark's results to `path` (its folder made as needed)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=2)


def round_stats(seconds):
    """``{"best", "median", "throttled"}`` of one path's round times.

    On the 2-core build machines the CPU allowance stalls a process now and
    then, so a round ends at the next multiple of about 1.27 s of wall time:
    stalls only ever lengthen rounds. ``best`` (the fastest round) is the
    headline estimate; ``median`` is the median of the rounds within
    `THROTTLE_FACTOR` x the best, and ``throttled`` counts the others.
    """
    best = min(seconds)
    kept = [s for s in seconds if s <= THROTTLE_FACTOR * best]
    return {"best": float(best), "median": float(np.median(kept)), "throttled": len(seconds) - len(kept)}


def pipeline_vs_batch(model, pipeline, rounds, steps):
    """Seconds per `Trainer` step of `model` on `pipeline` and on its first batch held in memory
    (``Dataset.from_tensors(batch).repeat()``): interleaved rounds of `steps` steps, every round from the same
    starting weights, both traced before timing. Returns ``{"pipeline": [...], "in_memory_batch": [...]}``."""
    import gc

    from keras_transfer_gan.training import Trainer

    weights = [w.numpy() for w in model.weights]
    one_batch = tf.data.Dataset.from_tensors(next(iter(pipeline))).repeat()
    paths = {"pipeline": (Trainer(model, verbose=0), pipeline),
             "in_memory_batch": (Trainer(model, verbose=0), one_batch)}
    for trainer, data in paths.values():  # warm-up: trace both
        trainer.fit(data, epochs=1, steps_per_epoch=2)
    gc.collect()
    gc.freeze()  # no collector walking the traced graphs in the middle of a round
    times = {name: [] for name in paths}
    for _ in range(rounds):
        for name, (trainer, data) in paths.items():
            for w, v in zip(model.weights, weights):
                w.assign(v)
            start = time.perf_counter()
            trainer.fit(data, epochs=1, steps_per_epoch=steps)
            times[name].append((time.perf_counter() - start) / steps)
    return times


def interleaved(paths, rounds):
    """Call every ``paths[name]()`` (each returns its round's seconds) once per round, in turn."""
    times = {name: [] for name in paths}
    for _ in range(rounds):
        for name, fn in paths.items():
            times[name].append(fn())
    return times


def rate(fn, items, seconds, rounds):
    """Items/s of the fastest of `rounds` rounds of about `seconds` each, after one warm-up call."""
    fn()
    rates = []
    for _ in range(rounds):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            fn()
            n += 1
        rates.append(n * items / (time.perf_counter() - start))
    return float(max(rates))


def matmul_peak(seconds=1.0, rounds=3, size=2048):
    """The machine's float32 matmul peak in GFLOP/s: the fastest round of ``size``-square `tf.matmul`."""
    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size])
    matmul = tf.function(lambda: tf.matmul(a, b))
    return rate(lambda: matmul().numpy(), 2 * size**3 / 1e9, seconds, rounds)


def _prod(shape):
    return int(np.prod([int(d) for d in shape]))


def _op_flops(op):
    """Multiply-adds x 2 of one convolution or matmul op, from its static shapes; 0 for other ops."""
    kind = op.type
    if kind in ("Conv2D", "Conv2DBackpropInput"):
        kh, kw, cin, _ = op.inputs[1].shape  # filter [kh, kw, in, out]
        grad_or_out = op.inputs[2].shape if kind == "Conv2DBackpropInput" else op.outputs[0].shape
        return 2 * _prod(grad_or_out) * int(kh) * int(kw) * int(cin)
    if kind == "Conv2DBackpropFilter":
        kh, kw, cin, _ = op.outputs[0].shape
        return 2 * _prod(op.inputs[2].shape) * int(kh) * int(kw) * int(cin)
    if kind == "MatMul":
        a = op.inputs[0].shape
        inner = int(a[0] if op.get_attr("transpose_a") else a[1])
        return 2 * _prod(op.outputs[0].shape) * inner
    if kind in ("BatchMatMulV2", "BatchMatMulV3"):
        a = op.inputs[0].shape
        inner = int(a[-2] if op.get_attr("adj_x") else a[-1])
        return 2 * _prod(op.outputs[0].shape) * inner
    return 0


def _live_ops(graph, outputs):
    """The ops that run: ancestors of the outputs and of every stateful op (variable updates, ...).

    A traced gradient leaves ops nothing uses (e.g. the input gradient of a
    discriminator's first layer); the runtime prunes them, so must the count.
    """
    live, stack = set(), [t.op for t in outputs] + [op for op in graph.get_operations() if op.op_def.is_stateful]
    while stack:
        op = stack.pop()
        if op.name in live:
            continue
        live.add(op.name)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return live


def count_flops(concrete_function):
    """FLOPs of one call of a traced function: ``{"total": int, "by_op": {type: int}}``.

    Counted from the graph (static shapes, so trace with a fully defined
    input signature) over the ops that run (see `_live_ops`): convolutions
    (forward and both backward kernels) and matmuls, which hold all but a few
    percent of a conv net's arithmetic. Element-wise ops, normalisation and
    the optimizer update are not counted. Function-call ops are followed into
    their bodies.
    """
    by_op = {}

    def visit(graph, outputs):
        live = _live_ops(graph, outputs)
        for op in graph.get_operations():
            if op.name not in live:
                continue
            flops = _op_flops(op)
            if flops:
                by_op[op.type] = by_op.get(op.type, 0) + flops
            if "f" in op.node_def.attr and op.type in ("PartitionedCall", "StatefulPartitionedCall"):
                body = graph._get_function(op.node_def.attr["f"].func.name)  # noqa: SLF001
                if body is not None and getattr(body, "graph", None) is not None:
                    visit(body.graph, body.graph.outputs)

    visit(concrete_function.graph, concrete_function.graph.outputs)
    return {"total": int(sum(by_op.values())), "by_op": by_op}
