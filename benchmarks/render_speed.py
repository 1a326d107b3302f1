"""PDF render time: the credit example's report, and a 100-column dataset's report.

    .venv/bin/python benchmarks/render_speed.py

Runs the pipeline once per dataset (not timed), then times render_pdf three
times each and prints the medians. Targets (issue 7): credit example <= 5 s,
100 columns <= 10 s.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from _common import REPO, machine, timed

from auditor.config import load_config
from auditor.pipeline import run
from auditor.render import RenderContext
from auditor.render.pdf import render_pdf


def wide_dataset(folder: Path, columns: int = 100, rows: int = 2000) -> Path:
    rng = np.random.default_rng(0)
    data: dict[str, object] = {}
    for i in range(columns - 2):
        kind = i % 4
        if kind == 0:
            data[f"measure_{i:03d}"] = rng.normal(size=rows).round(3)
        elif kind == 1:
            data[f"category_{i:03d}"] = rng.choice(["alpha", "beta", "gamma", "delta"], size=rows)
        elif kind == 2:
            data[f"count_{i:03d}"] = rng.integers(0, 50, size=rows)
        else:
            data[f"code_{i:03d}"] = [f"K{n:06d}" for n in rng.integers(0, 999999, size=rows)]
    data["comment"] = rng.choice(
        ["ok", "call back on +44 20 7946 0958", "no issue", "sent to a.b@example.com"], size=rows
    )
    data["label"] = rng.integers(0, 2, size=rows)
    pd.DataFrame(data).to_csv(folder / "wide.csv", index=False)
    config = {
        "project": "wide-100",
        "data": {"path": "wide.csv", "target": "label"},
        "train": {"epochs": 2, "batch_size": 256},
        "audit": {"enabled": True},
        "energy": {"country_iso_code": "DEU"},
        "policies": {"packs": ["gdpr", "sustainability", "eu-ai-act"]},
    }
    path = folder / "audit.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def main() -> None:
    print(f"machine: {machine()}")
    context = RenderContext(rendered_at=dt.datetime.now(dt.UTC))
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("credit example (25 columns)", REPO / "examples" / "credit-scoring" / "audit.yaml", 5.0),
            ("100-column dataset", wide_dataset(Path(tmp)), 10.0),
        ]
        for name, config_path, target in cases:
            evidence = run(load_config(config_path))
            render_pdf(evidence, context)  # warm-up: imports, font loading
            median, times = timed(lambda evidence=evidence: render_pdf(evidence, context))
            pages = len(__import__("pypdf").PdfReader(__import__("io").BytesIO(render_pdf(evidence, context))).pages)
            verdict = "OK" if median <= target else "OVER TARGET"
            print(
                f"{name}: PDF render median {median:.2f} s over {len(times)} runs "
                f"({', '.join(f'{t:.2f}' for t in times)}), {pages} pages; target <= {target:.0f} s: {verdict}"
            )


if __name__ == "__main__":
    main()
