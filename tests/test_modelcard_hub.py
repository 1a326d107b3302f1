"""The model card is one the Hugging Face Hub accepts: validated with huggingface_hub itself (offline)."""

from __future__ import annotations

import json
from pathlib import Path

from huggingface_hub import ModelCard, ModelCardData, metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results

from auditor.evidence import load_evidence, parse_evidence
from auditor.render.modelcard import model_card

DATA = Path(__file__).parent / "data"


def _card(tmp_path: Path, license: str | None = None, dataset: str | None = None) -> tuple[Path, dict[str, object]]:
    document = json.loads((DATA / "evidence.json").read_text())
    document["run"]["config"]["report"].update({"license": license, "dataset": dataset})
    path = tmp_path / "README.md"
    path.write_text(model_card(parse_evidence(json.dumps(document))), encoding="utf-8")
    meta = metadata_load(path)
    assert meta is not None
    return path, meta


def test_the_card_validates_with_huggingface_hub(tmp_path: Path) -> None:
    path, meta = _card(tmp_path, license="apache-2.0", dataset="acme/loans-2026")
    data = ModelCardData(**meta)  # raises on a malformed model-index
    assert data.license == "apache-2.0" and data.datasets == ["acme/loans-2026"]
    assert data.eval_results is not None
    evidence = load_evidence(DATA / "evidence.json")
    assert evidence.training is not None
    names = {r.metric_name for r in data.eval_results}
    accuracy = next(c for c in evidence.training.comparison if c.name == "accuracy")
    dp = next(r for r in data.eval_results if r.metric_type == "accuracy" and "DP" in (r.metric_name or ""))
    base = next(r for r in data.eval_results if r.metric_type == "accuracy" and "non-private" in (r.metric_name or ""))
    assert (dp.metric_value, base.metric_value) == (accuracy.model, accuracy.baseline)
    assert len(names) == len(data.eval_results)  # each result is named distinctly
    assert dp.task_type == "tabular-classification" and dp.dataset_type == "acme/loans-2026"
    assert meta["co2_eq_emissions"]["emissions"] >= 0  # type: ignore[index]
    name, results = model_index_to_eval_results(meta["model-index"])  # type: ignore[arg-type]
    assert name == (evidence.run.system or evidence.run.project) and results
    card = ModelCard.load(path)  # the whole file, as the Hub reads it
    assert card.data.to_dict()["model-index"] == meta["model-index"]


def test_without_a_dataset_name_the_card_names_the_data_by_its_hash(tmp_path: Path) -> None:
    _, meta = _card(tmp_path)
    evidence = load_evidence(DATA / "evidence.json")
    assert evidence.data is not None
    assert meta["datasets"] == [f"sha256-{evidence.data.sha256[:16]}"] and "license" not in meta
