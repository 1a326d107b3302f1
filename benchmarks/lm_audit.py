"""The language-model memorisation audits: their power, and their own cost, from one `audit run`.

Runs the support-chat-lm example (or another causal-lm config) once and prints, side by side:
- power: the Secret Sharer exposure per repetition count of the DP model and the non-private baseline,
  against the largest measurable exposure; and the PII extraction counts of the DP model, the
  non-private baseline (both on anonymised text) and the non-private model on the raw text;
- cost: seconds and energy of the reference scoring (audit.exposure), the extraction prompts
  (audit.extraction) and the raw-text model (audit.raw-baseline), as ratios of the training stage.

    .venv/bin/python benchmarks/lm_audit.py [--config examples/support-chat-lm/audit.yaml] [--out out/bench-lm]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time

from _common import REPO, machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "examples" / "support-chat-lm" / "audit.yaml"))
    parser.add_argument("--out", default=str(REPO / "out" / "bench-lm"))
    args = parser.parse_args()
    started = time.perf_counter()
    run = subprocess.run([str(REPO / ".venv" / "bin" / "audit"), "run", args.config, "-o", args.out], check=False)
    wall = time.perf_counter() - started
    if run.returncode not in (0, 1):
        raise SystemExit(f"audit run failed with exit code {run.returncode}")
    evidence = json.loads((REPO / args.out / "evidence.json").read_text(encoding="utf-8"))
    print(machine())
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


if __name__ == "__main__":
    main()
