"""DP preflight against the known silent failures, the weights-moved post-check, and HF datasets on disk."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

from auditor.config import LoraSettings
from auditor.errors import InputError
from auditor.hf.checkpoint import load_classifier, open_checkpoint
from auditor.hf.finetune import apply_fine_tune
from auditor.hf.model import TextClassifier
from auditor.hf.preflight import check_shared, check_supported, freeze_broadcast, preflight
from auditor.train.post import WeightsDidNotMove, require_moved, weight_check


def _bert(text_example: Path, mode: str = "frozen-embeddings") -> TextClassifier:
    torch.manual_seed(0)
    hf, _ = load_classifier(open_checkpoint(text_example / "bert", allow_pickle=False), labels=3)
    tuned, _ = apply_fine_tune(hf, mode, LoraSettings(r=4), top_layers=1)
    return TextClassifier(tuned)


def _example() -> torch.Tensor:
    ids = torch.randint(5, 100, (2, 10))
    return torch.stack([ids, torch.ones_like(ids)], dim=1)


def test_broadcast_position_ids_are_frozen(text_example: Path) -> None:
    """opacus#841: HF feeds position ids of batch size 1; their embedding is frozen, with a note."""
    model = _bert(text_example)
    positions = model.model.bert.embeddings.position_embeddings
    positions.weight.requires_grad_(True)
    notes = preflight(model, _example())
    assert not positions.weight.requires_grad
    assert notes == [
        "froze model.bert.embeddings.position_embeddings: its ids are broadcast across the batch (opacus#841)"
    ]


def test_broadcast_input_to_another_layer_is_refused() -> None:
    class Broadcast(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bias_net = nn.Linear(4, 3)
            self.head = nn.Linear(4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(x.float()) + self.bias_net(torch.ones(1, 4))

    with pytest.raises(InputError, match="bias_net receives an input broadcast across the batch"):
        freeze_broadcast(Broadcast(), torch.zeros(2, 4))


def test_tied_trainable_weights_are_refused() -> None:
    encoder, decoder = nn.Linear(4, 4), nn.Linear(4, 4)
    decoder.weight = encoder.weight
    with pytest.raises(InputError, match=r"shared by 0.weight and 1.weight \(tied weights\)"):
        check_shared(nn.Sequential(encoder, decoder))


def test_layers_without_per_sample_gradients_are_refused() -> None:
    class Scale(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gain = nn.Parameter(torch.ones(4))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.gain

    with pytest.raises(InputError, match=r"without a per-sample gradient in Opacus: 1 \(Scale\)"):
        check_supported(nn.Sequential(nn.Linear(4, 4), Scale()))


def test_lora_and_frozen_embeddings_pass_the_preflight(text_example: Path) -> None:
    for mode in ("lora", "top", "frozen-embeddings"):
        assert preflight(_bert(text_example, mode), _example()) == []


def test_post_check_catches_a_tensor_that_never_moved() -> None:
    initial = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    trained = copy.deepcopy(initial)
    with torch.no_grad():
        trained[1].weight.add_(0.1)
    check = weight_check("DP model", initial, trained)
    assert (check.tensors, check.unchanged) == (4, 3)
    assert check.max_abs_delta == pytest.approx(0.1)
    with pytest.raises(WeightsDidNotMove, match="3 of 4 trainable tensors of the DP model never moved"):
        require_moved(check, private=True)
    require_moved(check, private=False)  # without noise, some unmoved tensors are possible; none moving is not
    with pytest.raises(WeightsDidNotMove):
        require_moved(weight_check("non-private baseline", initial, copy.deepcopy(initial)), private=False)


def test_hf_dataset_directories_load(tmp_path: Path) -> None:
    """save_to_disk directories (a Dataset, or a DatasetDict read from its train split), ClassLabel names kept."""
    import datasets

    from auditor.data.base import ReadOptions, detect_format, get_loader

    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["a", "b"])})
    train = datasets.Dataset.from_dict({"text": ["x y", "z", "w"], "label": [0, 1, 1]}, features=features)
    test = datasets.Dataset.from_dict({"text": ["q"], "label": [0]}, features=features)
    datasets.disable_progress_bars()
    train.save_to_disk(str(tmp_path / "single"))
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(tmp_path / "dict"))
    for name in ("single", "dict"):
        path = tmp_path / name
        assert detect_format(path) == "hf-dataset"
        loader = get_loader(path)
        frame = loader.load(path, ReadOptions())
        pd.testing.assert_frame_equal(frame, pd.DataFrame({"text": ["x y", "z", "w"], "label": ["a", "b", "b"]}))
        chunks = list(loader.iter_text_chunks(path, ReadOptions(chunk_rows=2)))
        assert [len(c) for c in chunks] == [2, 1]
    datasets.DatasetDict({"test": test}).save_to_disk(str(tmp_path / "no-train"))
    with pytest.raises(InputError, match="without a 'train' split"):
        get_loader(tmp_path / "no-train").load(tmp_path / "no-train", ReadOptions())
