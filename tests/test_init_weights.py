"""``train.init_weights``: models can start from a state_dict file, read with weights_only=True."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from auditor.errors import InputError
from auditor.train.models import build_model

SHAPE, CLASSES, HIDDEN = (6,), 2, [8]


class RunsCode:
    """Pickles to a call of ``open(marker, "w")``: loading it unsafely would create the marker."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.marker), "w")


def test_the_models_start_from_the_file(tmp_path: Path) -> None:
    source = build_model("mlp", SHAPE, CLASSES, HIDDEN).module
    torch.save(source.state_dict(), tmp_path / "w.pt")
    torch.manual_seed(123)  # a different random init, overwritten by the file
    loaded = build_model("mlp", SHAPE, CLASSES, HIDDEN, tmp_path / "w.pt").module
    for (name, a), (_, b) in zip(source.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_a_checkpoint_dict_with_a_state_dict_key_is_accepted(tmp_path: Path) -> None:
    source = build_model("mlp", SHAPE, CLASSES, HIDDEN).module
    torch.save({"state_dict": source.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    loaded = build_model("mlp", SHAPE, CLASSES, HIDDEN, tmp_path / "ckpt.pt").module
    assert torch.equal(loaded.state_dict()["0.weight"], source.state_dict()["0.weight"])


def test_a_file_that_would_run_code_is_refused_before_it_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    torch.save({"0.weight": RunsCode(marker)}, tmp_path / "evil.pt")
    with pytest.raises(InputError, match=r"train\.init_weights\): refused: not a weights-only .*GLOBAL io\.open"):
        build_model("mlp", SHAPE, CLASSES, HIDDEN, tmp_path / "evil.pt")
    assert not marker.exists(), "the pickle's code ran"
    unsafe = torch.load(tmp_path / "evil.pt", weights_only=False)  # the unsafe way: the file does run code
    unsafe["0.weight"].close()  # the file object its code opened
    assert marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda: torch.zeros(3), "expected a state_dict"),
        (lambda: {"0.weight": torch.zeros(3, 3)}, "does not fit the model"),
        (lambda: {"layer": [1, 2]}, "expected a state_dict"),
    ],
)
def test_wrong_contents_are_input_errors(tmp_path: Path, content: object, message: str) -> None:
    torch.save(content(), tmp_path / "w.pt")  # type: ignore[operator]
    with pytest.raises(InputError, match=message):
        build_model("mlp", SHAPE, CLASSES, HIDDEN, tmp_path / "w.pt")


def test_garbage_and_missing_files_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "junk.pt").write_bytes(b"\x80\x04not a pickle at all")
    with pytest.raises(InputError, match="refused"):
        build_model("mlp", SHAPE, CLASSES, HIDDEN, tmp_path / "junk.pt")
    with pytest.raises(InputError, match="weights file not found"):
        build_model("mlp", SHAPE, CLASSES, HIDDEN, tmp_path / "absent.pt")


@pytest.mark.slow
def test_a_run_records_the_weights_it_started_from(tmp_path: Path) -> None:
    import yaml

    import auditor
    from auditor.data.fingerprint import file_sha256

    rows = "".join(f"{i % 13 / 13:.3f},{i % 7 / 7:.3f},{int(i % 13 > 6)}\n" for i in range(300))
    (tmp_path / "d.csv").write_text("x1,x2,label\n" + rows, encoding="utf-8")
    torch.save(build_model("logreg", (2,), 2, []).module.state_dict(), tmp_path / "w.pt")
    config = {
        "project": "init-weights",
        "data": {"path": "d.csv", "target": "label"},
        "train": {"model": "logreg", "epochs": 1, "batch_size": 64, "init_weights": "w.pt"},
        "pii": {"workers": 1},
        "energy": {"country_iso_code": "FRA"},
    }
    (tmp_path / "audit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    evidence = auditor.run(tmp_path / "audit.yaml")
    assert evidence.training is not None
    assert evidence.training.model.init_weights_sha256 == file_sha256(tmp_path / "w.pt")
