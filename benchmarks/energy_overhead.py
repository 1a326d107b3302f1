"""Cost of measuring energy: the whole credit-example audit with and without CodeCarbon.

    .venv/bin/python benchmarks/energy_overhead.py [--rounds 3]

Each round runs ``audit run`` on the credit example twice, in fresh processes:
once as configured, once with ``energy.enabled: false`` (no tracker at all).
Fresh processes matter: CodeCarbon's one-time hardware detection (about 1.5 s)
is part of the cost. Rendering is skipped (--format json) in both. It prints
median wall times and the overhead. Target (issue 5): at most 2%.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from _common import REPO, machine


def run(config: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "auditor.cli", "run", str(config), "-o", str(out), "--format", "json", "--exit-zero"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    example = REPO / "examples" / "credit-scoring"
    with tempfile.TemporaryDirectory() as tmp:
        data = yaml.safe_load((example / "audit.yaml").read_text())
        data["data"]["path"] = str(example / "loans.csv")
        data["policies"]["waivers"] = str(example / "waivers.yaml")
        tracked_config = Path(tmp) / "tracked.yaml"
        tracked_config.write_text(yaml.safe_dump(data))
        data["energy"]["enabled"] = False
        plain_config = Path(tmp) / "plain.yaml"
        plain_config.write_text(yaml.safe_dump(data))
        plain, tracked = [], []
        for round_ in range(args.rounds):
            plain.append(run(plain_config, Path(tmp) / "plain"))
            tracked.append(run(tracked_config, Path(tmp) / "tracked"))
            print(f"  round {round_ + 1}: without tracking {plain[-1]:.2f} s, with tracking {tracked[-1]:.2f} s")
    base, measured = statistics.median(plain), statistics.median(tracked)
    print(
        f"audit run wall time: {base:.2f} s without energy tracking, {measured:.2f} s with per-stage tracking; "
        f"overhead {100 * (measured / base - 1):+.1f}% (target <= 2%)"
    )


if __name__ == "__main__":
    main()
