"""The fastest dtype policy this machine computes well: ``precision="auto"``."""

import contextlib
import functools
import platform

#: CPU flags (Linux /proc/cpuinfo names) that mean bfloat16 arithmetic in hardware.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


@functools.lru_cache(maxsize=1)
def cpu_flags():
    """The CPU's feature flags (a frozenset; empty where /proc/cpuinfo is not readable)."""
    try:
        with open("/proc/cpuinfo") as f:
            line = next(line for line in f if line.startswith("flags"))
        return frozenset(line.split(":", 1)[1].split())
    except (OSError, StopIteration):
        return frozenset()


def cpu_features(flags=None):
    """The vector extensions that decide speed, as one string: e.g. ``"AVX2 AVX512F AVX512_BF16"``."""
    flags = cpu_flags() if flags is None else flags
    names = [n for n in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16") if n in flags]
    return " ".join(n.upper() for n in names) or platform.machine()


def auto_precision(flags=None, accelerators=None):
    """``(policy, reason)``: ``mixed_bfloat16`` where bfloat16 arithmetic is in hardware (a CPU with
    AVX512_BF16 or AMX, a GPU of compute capability 8.0 or above, a TPU), else ``float32``.

    On CPUs without it, bfloat16 is emulated and was measured 10x slower; with it, a DCGAN step ran 1.2-1.4x
    faster than float32 (docs/BENCHMARKS.md).
    """
    flags = cpu_flags() if flags is None else flags
    if accelerators is None:
        import tensorflow as tf

        accelerators = []
        for gpu in tf.config.list_physical_devices("GPU"):
            capability = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
            accelerators.append(("GPU", tuple(capability)))
        accelerators += [("TPU", None) for _ in tf.config.list_physical_devices("TPU")]
    for kind, capability in accelerators:
        if kind == "TPU" or (kind == "GPU" and capability >= (8, 0)):
            return "mixed_bfloat16", f"a {kind} with bfloat16 arithmetic"
    found = [f.upper() for f in BF16_FLAGS if f in flags]
    if found:
        return "mixed_bfloat16", f"the CPU has {found[0]}"
    return "float32", "no bfloat16 arithmetic in hardware (" + cpu_features(flags) + ")"


def resolve_precision(precision):
    """``(policy, reason)`` for a `precision` setting: ``"auto"`` decides (`auto_precision`), others are kept."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return auto_precision()
    return precision, "asked for"


@contextlib.contextmanager
def precision_scope(precision="auto"):
    """Build and train inside this block in `precision`'s dtype policy; yields ``(policy, reason)`` and puts
    the previous global policy back on exit. Models must be created inside the block::

        with precision_scope("auto") as (policy, reason):
            model = create_model("dcgan")
            ...
    """
    import keras

    policy, reason = resolve_precision(precision)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield policy, reason
    finally:
        keras.mixed_precision.set_global_policy(previous)
