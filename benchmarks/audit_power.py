"""Power of the privacy audits: do they catch broken DP, and stay sound on correct runs?

    .venv/bin/python benchmarks/audit_power.py [--seeds 20] [--config examples/credit-scoring/audit.yaml]

For each seed, ``audit selftest privacy`` trains the example's DP model three
times from the same initial weights and canaries: correctly, with the noise
removed, and with the noise multiplier halved, the claim (and so epsilon)
unchanged. Each run is audited white-box (gradient canaries) and black-box
(data canaries). An audit catches a run when its lower bound epsilon_hat
exceeds the claimed epsilon. The seed changes the split, the initial weights
and both sets of canaries; the DP noise and sampling come from the CSPRNG.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import REPO, machine

from auditor.config import load_config
from auditor.privacy_audit.selftest import VARIANTS, selftest_privacy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--config", default=str(REPO / "examples" / "credit-scoring" / "audit.yaml"))
    args = parser.parse_args()
    config = load_config(args.config)
    print(f"machine: {machine()}")
    print(f"config: {args.config}; {args.seeds} seeds")
    white: dict[str, list[float]] = {name: [] for name, _ in VARIANTS}
    black: dict[str, list[float]] = {name: [] for name, _ in VARIANTS}
    caught_white = dict.fromkeys(white, 0)
    caught_black = dict.fromkeys(white, 0)
    epsilon = power_white = power_black = 0.0
    started = time.perf_counter()
    for seed in range(args.seeds):
        result = selftest_privacy(config, seed)
        epsilon = result.epsilon
        cells = []
        for row in result.rows:
            white[row.run].append(row.white_box.epsilon_lower_bound)
            caught_white[row.run] += bool(row.caught(row.white_box))
            power_white = row.white_box.max_refutable
            if row.black_box is not None:
                black[row.run].append(row.black_box.epsilon_lower_bound)
                caught_black[row.run] += bool(row.caught(row.black_box))
                power_black = row.black_box.max_refutable or 0.0
            cells.append(f"{row.run}: {row.white_box.epsilon_lower_bound:.3f} (noise {row.white_box.noise_ratio:.2f}x)")
        print(f"seed {seed:>2}  claimed epsilon {result.epsilon:.3f}  " + "; ".join(cells), flush=True)
    print(f"\n{args.seeds} seeds in {time.perf_counter() - started:.0f} s; claimed epsilon {epsilon:.3f}")
    print(f"power (largest refutable epsilon): white-box {power_white:.3f}, black-box {power_black:.3f}")
    print("| Run | White-box ε̂ (median, min–max) | White-box caught | Black-box ε̂ (median, max) | Black-box caught |")
    print("|---|---:|---:|---:|---:|")
    for name, _ in VARIANTS:
        w, b = white[name], black[name]
        verdict = "ε̂ > ε" if name != "correct" else "ε̂ > ε (must be 0)"
        print(
            f"| {name} | {statistics.median(w):.3f} ({min(w):.3f}–{max(w):.3f}) | "
            f"{caught_white[name]} / {len(w)} {verdict} | "
            f"{statistics.median(b) if b else float('nan'):.3f} ({max(b) if b else float('nan'):.3f}) | "
            f"{caught_black[name]} / {len(b)} |"
        )


if __name__ == "__main__":
    main()
