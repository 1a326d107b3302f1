"""The language-model memorisation audits: their own cost and results on the demo, and the extraction test's power.

Part 1 runs the support-chat-lm example (or another causal-lm config) once and prints, side by side:
- power: the Secret Sharer exposure per repetition count of the DP model and the non-private baseline,
  against the largest measurable exposure; and the PII extraction counts of the DP model, the
  non-private baseline (both on anonymised text) and the non-private model on the raw text;
- cost: seconds and energy of the reference scoring (audit.exposure), the extraction prompts
  (audit.extraction) and the raw-text model (audit.raw-baseline), as ratios of the training stage.

Part 2 (power): the demo's small models memorise no single value, so a zero there says little on its own.
On the first --power-rows tickets, three models with the demo's architecture take the same --power-steps
optimiser steps: non-private on the raw text (trained to memorisation), non-private on the anonymised text,
and DP (epsilon 8) on the anonymised text. The same extraction test runs on each.

    .venv/bin/python benchmarks/lm_audit.py [--config examples/support-chat-lm/audit.yaml] [--out out/bench-lm]
                                            [--power-rows 80] [--power-epochs 100] [--skip-run]
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import time

from _common import REPO, machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "examples" / "support-chat-lm" / "audit.yaml"))
    parser.add_argument("--out", default=str(REPO / "out" / "bench-lm"))
    parser.add_argument("--power-rows", type=int, default=80)
    parser.add_argument("--power-epochs", type=int, default=100)
    parser.add_argument("--skip-run", action="store_true", help="only the power part")
    args = parser.parse_args()
    print(machine())
    if not args.skip_run:
        demo(args.config, args.out)
    power(args.config, args.power_rows, args.power_epochs)


def demo(config: str, out: str) -> None:
    started = time.perf_counter()
    run = subprocess.run([str(REPO / ".venv" / "bin" / "audit"), "run", config, "-o", out], check=False)
    wall = time.perf_counter() - started
    if run.returncode not in (0, 1):
        raise SystemExit(f"audit run failed with exit code {run.returncode}")
    evidence = json.loads((REPO / out / "evidence.json").read_text(encoding="utf-8"))
    print(f"audit run: {wall:.1f} s wall, exit {run.returncode}")
    audit, training = evidence["audit"], evidence["training"]
    dp, base = training["metrics"]["perplexity"], training["baseline"]["metrics"]["perplexity"]
    print(f"perplexity: DP {dp:.3f}, non-private {base:.3f}")
    exposure = audit["exposure"]
    print(
        f"\nexposure ({exposure['references']:,} references, at most {exposure['max_measurable']:.2f} bits measurable)"
    )
    print(f"{'model':<24}{'inserted':>9}{'max bits':>10}{'mean':>8}{'extrapolated':>14}{'first':>7}")
    for model in (exposure["model"], exposure["baseline"]):
        if model is None:
            continue
        for row in model["rows"]:
            print(
                f"{model['model']:<24}{row['repetitions']:>8}x{row['max_exposure']:>10.2f}{row['mean_exposure']:>8.2f}"
                f"{row['max_extrapolated']:>14.2f}{row['ranked_first']:>7}"
            )
    extraction = audit["extraction"]
    print(f"\nextraction: {extraction['records']} records of {extraction['candidates']} candidates")
    for model in (extraction["model"], extraction["baseline"], extraction["raw_baseline"]):
        if model is not None:
            print(
                f"{model['model']:<24}{model['trained_on']:<16}{model['reproduced']:>4} of {model['records']}"
                f"  rate {model['rate']:.3f} (95% {model['rate_low']:.3f}-{model['rate_high']:.3f})"
            )
    stages = evidence["energy"]["stages"]
    # The train stage's own figures exclude its nested phases (train.dp, train.baseline): add them up.
    parts = [v for k, v in stages.items() if k == "train" or k.startswith("train.")]
    train = {key: sum(p[key] for p in parts) for key in ("duration_s", "energy_kwh")}
    print(f"\ncost against the train stage ({train['duration_s']:.1f} s, {train['energy_kwh'] * 1000:.3f} Wh):")
    for phase in ("audit.exposure", "audit.extraction", "audit.raw-baseline"):
        if phase in stages:
            s = stages[phase]
            print(
                f"{phase:<20}{s['duration_s']:>8.1f} s ({s['duration_s'] / train['duration_s']:.2f}x)"
                f"{s['energy_kwh'] * 1000:>10.4f} Wh ({s['energy_kwh'] / train['energy_kwh']:.2f}x)"
            )


def power(config_path: str, rows: int, epochs: int) -> None:
    import dataclasses

    import torch

    from auditor.anonymise.operators import Anonymiser
    from auditor.config import load_config
    from auditor.data import load_data
    from auditor.pii.scanner import Scanner
    from auditor.privacy_audit.extraction import RawSpansBuilder, extraction_audit
    from auditor.tasks import get_task
    from auditor.train.accounting import plan_privacy
    from auditor.train.loop import train_baseline, train_private

    config = load_config(config_path)
    train = config.train.model_copy(update={"epochs": epochs, "batch_size": 16})
    data = load_data(config)
    data = dataclasses.replace(data, frame=data.frame.iloc[:rows].reset_index(drop=True))
    texts = data.frame["text"].astype(str).tolist()
    spans = Scanner(config.pii).text_spans("text", texts)
    builder = RawSpansBuilder(len(texts))
    builder.add(data.frame["text"], spans)
    raw = builder.build()
    anonymiser = Anonymiser(config.anonymise, None)
    masked = data.frame.assign(text=[anonymiser.anonymise(t, s) for t, s in zip(texts, spans, strict=True)])
    task = get_task("causal-lm")
    seed = config.seed
    prepared_raw = task.prepare(data, None, train, seed)
    prepared = task.prepare(dataclasses.replace(data, frame=masked), None, train, seed)
    torch.manual_seed(seed)
    initial = task.build_model(prepared, train, None).module
    models = []
    for name, source in (("non-private, raw text", prepared_raw), ("non-private, anonymised", prepared)):
        started = time.perf_counter()
        model = train_baseline(
            copy.deepcopy(initial),
            source.x_train,
            source.y_train,
            source.x_test,
            source.y_test,
            train,
            seed,
            loss_fn=task.loss,
            score=lambda _m: 0.0,
        ).model
        models.append((name, time.perf_counter() - started, model, source))
    plan = plan_privacy(len(prepared.x_train), train.batch_size, train.epochs, train.privacy)
    started = time.perf_counter()
    fit, _ = train_private(
        copy.deepcopy(initial),
        prepared.x_train,
        prepared.y_train,
        prepared.x_test,
        prepared.y_test,
        train,
        plan,
        seed,
        loss_fn=task.loss,
        score=lambda _m: 0.0,
    )
    models.append(
        (
            f"DP (epsilon {train.privacy.target_epsilon:g}), anonymised",
            time.perf_counter() - started,
            fit.model,
            prepared,
        )
    )
    steps = len(prepared.x_train) // train.batch_size * epochs
    print(f"\npower: {rows} tickets ({len(prepared.x_train)} training rows), about {steps} steps of batch 16 each")
    for name, seconds, model, source in models:
        model.eval()
        with torch.no_grad():
            loss = float(task.loss(model(source.x_train), source.y_train).mean())
        found = extraction_audit(raw, prepared_raw, 200, seed, [(name, "", model)])
        m = found.model
        print(
            f"{name:<36}train loss {loss:.3f} nats/token, {seconds:5.1f} s; reproduced {m.reproduced} of "
            f"{m.records} records ({found.prompts} prompts), 95% {m.rate_low:.3f}-{m.rate_high:.3f}"
        )


if __name__ == "__main__":
    main()
