"""The causal-lm task and its memorisation audits: exposure arithmetic, the skew-normal extrapolation, the
controls, bad input, and an end-to-end run whose outputs hold no raw personal-data value."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy.stats import skewnorm
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config import ExposureConfig
from auditor.errors import InputError
from auditor.privacy_audit.exposure import (
    exposure_extrapolation,
    exposure_interpolation,
    fit_skewnorm,
    make_exposure_canaries,
)
from auditor.privacy_audit.extraction import clopper_pearson
from tests.test_policy_packs import patch

REPO = Path(__file__).resolve().parents[1]


def test_exposure_interpolation_by_hand() -> None:
    references = np.array([8.0, 1.0, 7.0, 2.0, 6.0, 3.0, 5.0, 4.0])  # log2(8) = 3 bits at most
    canaries = np.array([0.5, 2.0, 4.5, 9.0])
    # ranks: 1 (below all), 2 (one strictly lower), 5 (four lower), 9 (all eight lower)
    expected = [3.0, 3.0 - 1.0, 3.0 - math.log2(5), 3.0 - math.log2(9)]
    assert exposure_interpolation(canaries, references) == pytest.approx(expected)


def test_exposure_extrapolation_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    references = skewnorm.rvs(4.0, loc=60.0, scale=5.0, size=5000, random_state=rng)
    params = fit_skewnorm(references)
    shape, loc, scale = skewnorm.fit(references)
    assert params == pytest.approx((shape, loc, scale))
    canaries = np.array([40.0, 55.0, 61.0, 70.0])
    direct = -np.log2(skewnorm.cdf(canaries, shape, loc, scale))
    assert exposure_extrapolation(canaries, params) == pytest.approx(direct, rel=1e-6)
    # Beyond the interpolation's ceiling: a canary far below every reference.
    assert exposure_extrapolation(np.array([20.0]), params)[0] > math.log2(len(references))


def test_canaries_are_distinct_and_never_references() -> None:
    config = ExposureConfig(references=500, canaries_per_repetition=2, repetitions=[1, 4])
    drawn = make_exposure_canaries(config, seed=1)
    assert len(set(drawn.canaries)) == 4 and len(set(drawn.references)) == 500
    assert not set(drawn.canaries) & set(drawn.references)
    assert drawn.inserted().count(drawn.canaries[3]) == 4
    assert make_exposure_canaries(config, seed=1) == drawn  # seeded: identical reruns


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"alphabet": "01", "length": 8}, "randomness space"),
        ({"template": "no slot here"}, "{secret} exactly once"),
        ({"alphabet": "0012"}, "repeats a character"),
    ],
)
def test_bad_exposure_settings(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ExposureConfig(**settings)


def test_clopper_pearson() -> None:
    assert clopper_pearson(0, 200) == pytest.approx((0.0, 0.018275), abs=1e-6)
    low, high = clopper_pearson(6, 200)
    assert low < 0.03 < high


# -- the controls (pass and fail fixtures are in tests/data/control_fixtures.yaml) ----------------------------
def _lm(document: dict[str, Any], reproduced: int, records: int) -> dict[str, Any]:
    low, high = clopper_pearson(reproduced, records)
    model = {
        "model": "DP model",
        "trained_on": "anonymised text",
        "reproduced": reproduced,
        "rate": reproduced / records,
        "rate_low": low,
        "rate_high": high,
        "records": records,
        "by_entity": {},
    }
    return patch(
        document,
        {
            "training.task.name": "causal-lm",
            "training.task.family": "generation",
            "audit.extraction": {"model": model},
        },
    )


@pytest.mark.parametrize(
    ("reproduced", "records", "expected"),
    [(0, 200, "pass"), (30, 200, "fail"), (3, 200, "inconclusive"), (0, 40, "inconclusive")],
)
def test_extraction_control_decides_on_its_interval(reproduced: int, records: int, expected: str) -> None:
    from tests.test_policy_packs import base_document, status_of

    assert status_of("GDPR-MEM-002", _lm(base_document(), reproduced, records)) == expected


# -- bad input and the end-to-end run ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lm_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """160 tickets from the LM example's generator, its byte-level tokenizer, a 1-layer GPT-2 from a config."""
    sys.path.insert(0, str(REPO / "examples" / "support-chat-lm"))
    from make_tokenizer import byte_tokenizer

    spec = importlib.util.spec_from_file_location(
        "chat_generate", REPO / "examples" / "support-chat-lm" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    chat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(chat)

    directory = tmp_path_factory.mktemp("lm")
    chat.write(directory / "tickets.csv", chat.generate(160, 40, seed=9))
    byte_tokenizer().save_pretrained(str(directory / "tokenizer"))
    return directory


def lm_config(directory: Path, **audit: Any) -> Path:
    config = {
        "project": "lm-test",
        "seed": 3,
        "data": {"path": "tickets.csv", "target": "category", "text": "text"},
        "anonymise": {"enabled": True},
        "train": {
            "task": "causal-lm",
            "model": {"hf_config": {"n_layer": 1, "n_embd": 32, "n_head": 2}, "tokenizer": "tokenizer"},
            "max_length": 96,
            "epochs": 1,
            "batch_size": 32,
            "optimizer": "adam",
            "learning_rate": 0.01,
            "privacy": {"target_epsilon": 8.0},
        },
        "audit": {
            "canaries": 10,
            "exposure": {"references": 200, "canaries_per_repetition": 2, "repetitions": [1, 4]},
            "extraction_records": 30,
            "extraction_raw_baseline": True,
            **audit,
        },
        "energy": {"country_iso_code": "FRA"},
        "policies": {"packs": ["gdpr"]},
    }
    path = directory / "audit.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_canary_longer_than_max_length_is_input_error(lm_example: Path) -> None:
    config = lm_config(lm_example, exposure={"template": "my account number is {secret} " + "x" * 120})
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(lm_example / "out-long")])
    assert result.exit_code == 2, result.output
    assert "longer than train.max_length" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_checkpoint_that_is_not_a_causal_lm(lm_example: Path, text_example: Path) -> None:
    from auditor.config import load_config
    from auditor.tasks import get_task

    path = lm_config(lm_example)
    config = load_config(path)
    train = config.train.model_copy(
        update={
            "model": config.train.model.model_copy(  # type: ignore[union-attr]
                update={"hf": str(text_example / "bert"), "hf_config": None, "tokenizer": None}
            )
        }
    )
    with pytest.raises(InputError, match="not a causal language model"):
        get_task("causal-lm").tokenizer(train)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_extraction_run_writes_no_raw_value(lm_example: Path, tmp_path: Path) -> None:
    config = lm_config(lm_example)
    out, history = tmp_path / "out", tmp_path / "history.db"
    run = CliRunner().invoke(
        app, ["--verbose", "run", str(config), "-o", str(out), "--history", f"sqlite:///{history}"]
    )
    assert run.exit_code in (0, 1), run.output
    evidence = json.loads((out / "evidence.json").read_text(encoding="utf-8"))
    extraction, exposure = evidence["audit"]["extraction"], evidence["audit"]["exposure"]
    assert extraction["records"] > 0 and extraction["raw_baseline"]["trained_on"] == "raw text"
    assert [r["repetitions"] for r in exposure["model"]["rows"]] == [1, 4]
    assert exposure["references"] == 200 and all(r["canaries"] == 2 for r in exposure["model"]["rows"])
    assert exposure["inserted_rows"] == 2 * (1 + 4)
    assert exposure["space_bits"] == pytest.approx(9 * math.log2(10), abs=1e-4)
    assert extraction["records"] <= 30 and exposure["template"] == "my account number is {secret}"
    assert evidence["training"]["model"]["language_model"]["head"].startswith("not tied")
    assert any(r["after"] == "Linear" for r in evidence["training"]["model"]["rewrites"])
    # The raw values the extraction test prompted for: every email and every introduced name.
    raw = (lm_example / "tickets.csv").read_text(encoding="utf-8")
    values = set(re.findall(r"[\w.]+@[\w.]+\.\w+", raw)) | set(re.findall(r"my name is ([A-Z]\w+ [A-Z][\w-]+)", raw))
    assert len(values) > 20
    texts = {"stdout": run.stdout, "stderr": run.stderr}
    for path in out.iterdir():
        if path.suffix != ".pdf":
            texts[path.name] = path.read_text(encoding="utf-8")
    for path in tmp_path.glob("history.db*"):
        texts[path.name] = path.read_bytes().decode("latin-1")
    for name, text in texts.items():
        leaked = [v for v in values if v in text]
        assert not leaked, f"{name} holds raw values, e.g. {leaked[0]!r}"


# -- a local GPT-2 checkpoint ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gpt2_checkpoint(lm_example: Path) -> Path:
    """A tiny GPT-2 saved as safetensors with the byte-level tokenizer: a local checkpoint, tied head and all."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    directory = lm_example / "gpt2"
    tokenizer = AutoTokenizer.from_pretrained(str(lm_example / "tokenizer"), local_files_only=True)
    tokenizer.save_pretrained(str(directory))
    torch.manual_seed(0)
    config = GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=len(tokenizer), n_positions=128)
    GPT2LMHeadModel(config).save_pretrained(str(directory))
    return directory


@pytest.mark.parametrize(
    ("fine_tune", "head"), [("lora", "tied to the token embedding"), ("top", "untied"), ("frozen-embeddings", "untied")]
)
def test_checkpoint_fine_tunes_keep_dp_exact(
    lm_example: Path, gpt2_checkpoint: Path, fine_tune: str, head: str
) -> None:
    from auditor.config import load_config
    from auditor.data import load_data
    from auditor.tasks import get_task

    path = lm_config(lm_example)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["train"]["model"] = {"hf": "gpt2"}
    data["train"]["fine_tune"] = fine_tune
    data["train"]["top_layers"] = 1
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_config(path)
    task = get_task("causal-lm")
    prepared = task.prepare(load_data(config), None, config.train, 3)
    built = task.build_model(prepared, config.train, None)
    assert built.language_model is not None and built.language_model.source == "checkpoint"
    assert built.language_model.head.startswith(head)
    assert {r.after for r in built.rewrites} == {"Linear"}  # every Conv1D
    trainable = [n for n, p in built.module.named_parameters() if p.requires_grad]
    shared = {id(p) for n, p in built.module.named_parameters() if p.requires_grad}
    assert len(shared) == len(trainable)  # nothing trainable is tied
    if fine_tune == "lora":
        assert trainable and all("lora_" in n for n in trainable)
    else:
        assert any("lm_head" in n for n in trainable) and not any("wte" in n for n in trainable)
    # Each example's own position ids: the position embedding sees the batch, not one broadcast row.
    outputs = built.module(prepared.x_train[:3])
    assert outputs.shape == prepared.x_train[:3, 0].shape


def test_extraction_finds_values_a_model_memorised(lm_example: Path) -> None:
    """The test has power: a model trained to memorise a few raw tickets gives their values back, and the
    evidence it writes holds counts only."""
    import dataclasses

    import torch

    from auditor.config import load_config
    from auditor.data import load_data
    from auditor.pii.scanner import Scanner
    from auditor.privacy_audit.extraction import RawSpansBuilder, extraction_audit
    from auditor.tasks import get_task
    from auditor.train.loop import train_baseline

    config = load_config(lm_config(lm_example))
    train = config.train.model_copy(update={"epochs": 300, "batch_size": 16, "learning_rate": 0.003})
    data = load_data(config)
    data = dataclasses.replace(data, frame=data.frame.iloc[:16].reset_index(drop=True))
    texts = data.frame["text"].astype(str).tolist()
    builder = RawSpansBuilder(len(texts))
    builder.add(data.frame["text"], Scanner(config.pii).text_spans("text", texts))
    task = get_task("causal-lm")
    prepared = task.prepare(data, None, train, 0)
    torch.manual_seed(0)
    model = task.build_model(prepared, train, None).module
    untrained = extraction_audit(builder.build(), prepared, 50, 0, [("untrained", "raw text", model)])
    trained = train_baseline(
        model,
        prepared.x_train,
        prepared.y_train,
        prepared.x_test,
        prepared.y_test,
        train,
        0,
        loss_fn=task.loss,
        score=lambda _m: 0.0,
    ).model
    found = extraction_audit(builder.build(), prepared, 50, 0, [("memorised", "raw text", trained)])
    assert untrained.model.reproduced == 0
    assert found.records >= 4 and found.model.reproduced >= found.records // 2
    dumped = found.model_dump_json()
    raw = builder.build()
    values = [raw.texts[row][a:b] for row, spans in enumerate(raw.spans) for a, b, _ in spans if b - a >= 6]
    assert values and not [v for v in values if v in dumped]
