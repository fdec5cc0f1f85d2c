"""Zoo access: names, checksums, cards, `create_model(pretrained=)`, `ktg zoo`."""

import json

import numpy as np
import pytest

from keras_transfer_gan import create_model, load_pretrained, zoo
from tests.test_cli import run_cli

Z = np.random.default_rng(0).standard_normal((3, 16)).astype("float32")


@pytest.fixture
def fake_zoo(tmp_path, monkeypatch):
    """A zoo directory with one tiny checkpoint, as `tools/train_zoo.py` lays it out."""
    model = create_model("dcgan", tiny=True)
    directory = tmp_path / "tiny_dcgan"
    directory.mkdir()
    model.save(str(directory / "model.keras"))
    (directory / "model.keras.sha256").write_text(zoo.sha256_of(str(directory / "model.keras")) + "  model.keras\n")
    (directory / "config.json").write_text(json.dumps({"model": "dcgan", "dataset": "digits",
                                                       "description": "a tiny test DCGAN"}))
    (directory / "MODEL_CARD.md").write_text("# tiny_dcgan\n\nA card.\n")
    monkeypatch.setenv("KTG_ZOO_DIR", str(tmp_path))
    return model, directory


def test_zoo_names_load_verified(fake_zoo):
    model, _ = fake_zoo
    assert zoo.list_zoo() == ["tiny_dcgan"]
    np.testing.assert_array_equal(load_pretrained("tiny_dcgan").generate(Z), model.generate(Z))
    rgb = create_model("dcgan", pretrained="tiny_dcgan", channels=3)
    assert rgb.channels == 3
    np.testing.assert_allclose(rgb.generate(Z), np.repeat(model.generate(Z), 3, -1), atol=1e-6)
    with pytest.raises(ValueError, match="is a 'dcgan' model"):
        create_model("vae", pretrained="tiny_dcgan")


def test_checksum_mismatch_is_an_error_never_a_silent_load(fake_zoo):
    _, directory = fake_zoo
    path = directory / "model.keras"
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        load_pretrained("tiny_dcgan")
    assert "\n" not in str(info.value)
    (directory / "model.keras.sha256").unlink()
    with pytest.raises(ValueError, match="no checksum file"):
        load_pretrained("tiny_dcgan")


def test_unknown_zoo_name(fake_zoo):
    with pytest.raises(ValueError, match=r"not a zoo checkpoint \(zoo: tiny_dcgan\)"):
        load_pretrained("dcgan_mars")
    with pytest.raises(ValueError, match="unknown zoo checkpoint 'dcgan_mars'"):
        zoo.zoo_card("dcgan_mars")


def test_ktg_zoo_list_and_info(fake_zoo, capsys):
    assert run_cli("zoo", "list") == 0
    out = capsys.readouterr().out
    assert "tiny_dcgan" in out and "a tiny test DCGAN" in out and out.startswith("name")
    assert run_cli("zoo", "info", "tiny_dcgan") == 0
    assert "A card." in capsys.readouterr().out
    assert run_cli("zoo", "info", "nope") == 2
    assert "unknown zoo checkpoint 'nope'" in capsys.readouterr().err
