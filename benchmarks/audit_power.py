"""Power of the empirical privacy audit: what the canary audit sees on three models.

    .venv/bin/python benchmarks/audit_power.py [--rows 3000]

1. The credit example as configured: the DP model and its non-private baseline,
   trained on the same data with the same canaries. The audit's lower bound
   epsilon_hat should stay near 0 for the DP model and rise for the baseline.
2. A deliberately broken DP run on the first ``--rows`` rows: the optimizer's
   noise is forced to 0 while the accountant still claims epsilon = 1. The audit
   must report epsilon_hat > 1, and the gate must fail (GDPR-AUDIT-001).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _common import REPO, machine

import auditor.train.loop as loop
from auditor.config import load_config
from auditor.evidence import Evidence
from auditor.pipeline import run
from tests.conftest import write_small_example


def describe(label: str, evidence: Evidence, seconds: float) -> None:
    audit, training = evidence.audit, evidence.training
    assert audit is not None and training is not None and training.privacy is not None
    canary = audit.canary
    assert canary is not None
    print(f"{label} ({seconds:.0f} s)")
    print(
        f"  DP model:        claimed epsilon {training.privacy.epsilon:.3f}; canaries {canary.canaries}, "
        f"{canary.correct}/{canary.guesses} guesses right, epsilon_hat {canary.epsilon_lower_bound:.3f}"
    )
    if audit.canary_baseline is not None:
        base = audit.canary_baseline
        print(
            f"  non-private:     {base.correct}/{base.guesses} guesses right, "
            f"epsilon_hat {base.epsilon_lower_bound:.3f}"
        )
    if audit.mia_dp is not None:
        line = f"  membership AUC:  DP {audit.mia_dp.auc:.3f}"
        if audit.mia_baseline is not None:
            line += f", non-private {audit.mia_baseline.auc:.3f}"
        print(line)
    gate = next((c for c in evidence.controls if c.id == "GDPR-AUDIT-001"), None)
    print(f"  GDPR-AUDIT-001:  {gate.status if gate else 'absent'}; verdict {evidence.verdict}")


def broken_run(rows: int, work: Path) -> tuple[Evidence, float]:
    class NoNoise(loop.BookKeepingDPOptimizer):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["noise_multiplier"] = 0.0
            super().__init__(*args, **kwargs)

    config = write_small_example(work / "broken", rows=rows)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["train"].update({"epochs": 30, "batch_size": 128, "baseline": False})
    data["train"]["privacy"].update({"target_epsilon": 1.0, "max_grad_norm": 10.0})
    data["policies"]["params"]["gdpr.max_epsilon"] = 3.0
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    original = loop.BookKeepingDPOptimizer
    loop.BookKeepingDPOptimizer = NoNoise
    try:
        started = time.perf_counter()
        evidence = run(load_config(config))
        return evidence, time.perf_counter() - started
    finally:
        loop.BookKeepingDPOptimizer = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000, help="Rows of the example for the broken run.")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    started = time.perf_counter()
    evidence = run(load_config(REPO / "examples" / "credit-scoring" / "audit.yaml"))
    describe("credit example as configured", evidence, time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        broken, seconds = broken_run(args.rows, Path(tmp))
    describe(f"broken DP run: noise forced to 0, epsilon 1 claimed, {args.rows} rows", broken, seconds)
    assert broken.audit is not None and broken.audit.canary is not None and broken.training is not None
    claimed = broken.training.privacy.epsilon if broken.training.privacy else float("nan")
    caught = broken.audit.canary.epsilon_lower_bound > claimed
    print(f"  caught: {caught} (epsilon_hat {broken.audit.canary.epsilon_lower_bound:.3f} vs claimed {claimed:.3f})")


if __name__ == "__main__":
    main()
