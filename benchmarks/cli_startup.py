"""How long `audit --version` and `audit --help` take, next to a bare Python start, in one run.

The issue's target is under 250 ms for both (bandit's --version took 171 ms on the machine that filed it).
Each command runs `--repeats` times after one warm-up; the median is reported.

    .venv/bin/python benchmarks/cli_startup.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

AUDIT = str(Path(sys.executable).with_name("audit"))
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "audit --version": [AUDIT, "--version"],
    "audit --help": [AUDIT, "--help"],
    "audit run --help": [AUDIT, "run", "--help"],
}


def median_ms(command: list[str], repeats: int) -> float:
    subprocess.run(command, capture_output=True, check=True)  # warm the page cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    results = {name: median_ms(command, args.repeats) for name, command in COMMANDS.items()}
    base = results["python -c pass"]
    print(f"{'command':<20} {'median ms':>10} {'x bare python':>14}")
    for name, ms in results.items():
        print(f"{name:<20} {ms:>10.0f} {ms / base:>14.1f}")


if __name__ == "__main__":
    main()
