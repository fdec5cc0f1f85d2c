"""Mixed precision (bfloat16, float16 with loss scaling) and XLA in `fit` and the `Trainer`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transfer_gan import create_model
from keras_transfer_gan.training import Trainer, compile_for_training


@pytest.fixture
def policy():
    """Set a global dtype policy for one test and put float32 back afterwards."""
    def set_policy(name):
        keras.mixed_precision.set_global_policy(name)
    yield set_policy
    keras.mixed_precision.set_global_policy("float32")


def _data(name, digits16):
    labels = np.arange(len(digits16)) % 10
    if name in ("acgan", "classifier"):
        return tf.data.Dataset.from_tensor_slices((digits16, labels)).batch(16)
    return tf.data.Dataset.from_tensor_slices(digits16).batch(16)


def _model(name, **kwargs):
    extra = {"num_classes": 10} if name in ("acgan", "classifier") else {}
    return create_model(name, tiny=True, **extra, **kwargs)


@pytest.mark.parametrize("name", ["dcgan", "wgan_gp", "acgan", "vae", "classifier"])
def test_mixed_bfloat16_trains_in_fit_and_trainer(policy, digits16, name):
    policy("mixed_bfloat16")
    model = _model(name)
    compile_for_training(model)
    assert model.compute_dtype == "bfloat16"
    start = [w.numpy() for w in model.trainable_weights]
    history = model.fit(_data(name, digits16), epochs=1, verbose=0).history
    logs = Trainer(model, verbose=0).fit(_data(name, digits16), epochs=1)
    for key, values in history.items():
        assert np.isfinite(values[-1]), (key, values)
        assert np.isfinite(logs[key][-1]), (key, logs[key])
    assert {w.dtype for w in model.weights} == {"float32"}  # variables stay float32
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(start, model.trainable_weights))
    if name != "classifier":
        assert model.generate(2).dtype == np.float32


def _one_sgd_step(name, digits16):
    keras.utils.set_random_seed(0)
    model = _model(name)
    compile_for_training(model, optimizer="sgd", learning_rate=0.05)
    start = [w.numpy().astype(np.float64) for w in model.trainable_weights]
    model.fit(_data(name, digits16).take(1), epochs=1, verbose=0)
    return model, [w.numpy() - s for w, s in zip(model.trainable_weights, start)]


def test_mixed_float16_scales_the_loss_and_unscales_the_gradients(policy, digits16):
    """One SGD step under mixed_float16 moves the weights as float32 does.

    SGD, not Adam: Adam's step ignores the gradient's scale, so a loss scale
    left in the gradients (32768x) or a loss never scaled would go unseen.
    """
    _, reference = _one_sgd_step("dcgan", digits16)
    policy("mixed_float16")
    model, mixed = _one_sgd_step("dcgan", digits16)
    assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
    ref = np.concatenate([d.ravel() for d in reference])
    got = np.concatenate([d.ravel() for d in mixed])
    assert np.linalg.norm(ref) > 0
    assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < 0.05


def test_mixed_float16_skips_overflowing_steps_until_the_scale_fits(policy, digits16):
    """The VAE's per-pixel summed loss overflows float16 bias gradients at the initial scale (2**15): those
    steps are skipped and the scale halved, then steps go through, from the Trainer as from `fit`."""
    policy("mixed_float16")
    model = _model("vae")
    compile_for_training(model, optimizer="sgd", learning_rate=0.01)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    start = [w.numpy() for w in model.trainable_weights]
    logs = Trainer(model, verbose=0).fit(_data("vae", digits16).repeat(4), epochs=1)  # 16 steps
    assert float(model.optimizer.dynamic_scale.numpy()) < 2.0**15
    assert np.isfinite(logs["loss"][-1])
    moved = [not np.array_equal(a, w.numpy()) for a, w in zip(start, model.trainable_weights)]
    assert all(moved)
    assert all(np.isfinite(w.numpy()).all() for w in model.weights)


def _classifier_after_trainer(jit_compile, digits16):
    keras.utils.set_random_seed(0)
    model = _model("classifier", dropout=0.0)
    compile_for_training(model, optimizer="sgd", learning_rate=0.05)
    trainer = Trainer(model, verbose=0, jit_compile=jit_compile)
    trainer.fit(_data("classifier", digits16), epochs=1)
    return model, trainer


def test_trainer_jit_compile_runs_the_same_step_under_xla(digits16):
    plain, plain_trainer = _classifier_after_trainer(None, digits16)
    assert plain_trainer.jit_compile is False  # follows the model's jit_compile: Keras turns XLA off on CPU
    xla, xla_trainer = _classifier_after_trainer(True, digits16)
    iterator = iter(_data("classifier", digits16))
    graph = xla_trainer._step_fn.get_concrete_function(iterator).graph
    assert any(op.node_def.attr["_XlaMustCompile"].b for op in graph.get_operations())
    graph = plain_trainer._step_fn.get_concrete_function(iterator).graph
    assert not any(op.node_def.attr["_XlaMustCompile"].b for op in graph.get_operations())
    for a, b in zip(plain.weights, xla.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-4, err_msg=a.path)


def test_trainer_under_xla_is_reproducible(digits16):
    """XLA scrambles stateless seeds its own way (other noise than without it), but the same on every run."""
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        model = _model("dcgan")
        compile_for_training(model)
        Trainer(model, verbose=0, jit_compile=True).fit(_data("dcgan", digits16).take(2), epochs=1)
        runs.append([w.numpy() for w in model.weights])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)



# --- precision="auto": the policy follows the hardware -------------------------------------------------------

from keras_transfer_gan.training import auto_precision, cpu_features, precision_scope, resolve_precision  # noqa: E402

AVX2 = frozenset({"sse4_2", "avx", "avx2", "fma"})
AVX512_BF16 = AVX2 | {"avx512f", "avx512_vnni", "avx512_bf16"}


@pytest.mark.parametrize("flags, accelerators, expected", [
    (AVX2, [], "float32"),                                  # bfloat16 emulated: 10x slower
    (AVX512_BF16, [], "mixed_bfloat16"),                    # the CPU has AVX512_BF16
    (AVX2 | {"amx_bf16"}, [], "mixed_bfloat16"),            # AMX
    (AVX2, [("GPU", (8, 0))], "mixed_bfloat16"),            # Ampere and later
    (AVX2, [("GPU", (7, 5))], "float32"),                   # Turing: no bfloat16 arithmetic
    (AVX2, [("TPU", None)], "mixed_bfloat16"),
    (frozenset(), [], "float32"),                           # /proc/cpuinfo unreadable
])
def test_auto_precision_follows_the_hardware(flags, accelerators, expected):
    policy, reason = auto_precision(flags, accelerators)
    assert policy == expected and reason
    if expected == "float32" and flags:
        assert "AVX2" in reason  # the reason names what the CPU has


def test_cpu_features_names_the_vector_extensions():
    assert cpu_features(AVX512_BF16) == "AVX2 AVX512F AVX512_VNNI AVX512_BF16"
    assert cpu_features(AVX2) == "AVX2"


def test_resolve_precision_keeps_explicit_policies_and_rejects_others():
    assert resolve_precision("float32") == ("float32", "asked for")
    assert resolve_precision("auto")[0] in ("float32", "mixed_bfloat16")
    with pytest.raises(ValueError, match="precision must be one of auto, float32"):
        resolve_precision("float8")


def test_precision_scope_builds_in_the_policy_and_restores_the_previous_one():
    keras.mixed_precision.set_global_policy("float32")
    with precision_scope("mixed_bfloat16") as (policy, _):
        model = _model("dcgan")
        assert policy == "mixed_bfloat16" and model.compute_dtype == "bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(ValueError):
        with precision_scope("half"):
            pass
    assert keras.mixed_precision.global_policy().name == "float32"


def test_text_model_generates_under_mixed_bfloat16():
    """The in-graph sampling loop keeps float32 LSTM states whatever the policy (the cell returns bfloat16)."""
    with precision_scope("mixed_bfloat16"):
        from keras_transfer_gan.data import Vocabulary

        model = create_model("char_lstm", vocabulary=Vocabulary.from_text("The quick brown fox"), embedding_dim=8,
                             units=16)
        assert model.compute_dtype == "bfloat16"
        text = model.generate("The ", length=12, temperature=0.8, seed=0)
    assert text.startswith("The ") and len(text) == 4 + 12
