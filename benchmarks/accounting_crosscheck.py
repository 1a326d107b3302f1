"""The reported epsilon against an independent accountant (Google's dp_accounting).

    .venv/bin/python benchmarks/accounting_crosscheck.py

For a grid of sample rates, step counts and target epsilons, the noise multiplier
is calibrated as ``audit run`` does (plan_privacy), then Opacus' epsilon is
compared with Google's PLD (for PRV) and Google's RDP (for RDP) on the same
sigma, q and steps. A ratio >= 1 means Opacus' figure is the more conservative
one. auditor reports the larger of the two, rounded up (the last column).
"""

from __future__ import annotations

from _common import machine

from auditor.config import PrivacyConfig
from auditor.train.accounting import final_epsilon, plan_privacy

# rows, batch, epochs, target epsilon, delta (None: 1/(10 N))
GRID = [
    (8_399, 512, 30, 3.0, None),  # the credit example
    (60_000, 256, 60, 2.3, 1e-5),
    (8_000, 400, 10, 1.0, None),
    (1_000, 100, 10, 8.0, 1e-5),
]


def main() -> None:
    print(f"machine: {machine()}")
    header = f"{'rows':>7} {'q':>8} {'steps':>6} {'sigma':>7} | {'acct':4} {'opacus':>8} {'google':>8} {'ratio':>7}"
    print(header + f" {'reported':>9}")
    for rows, batch, epochs, target, delta in GRID:
        for accountant in ("prv", "rdp"):
            config = PrivacyConfig(target_epsilon=target, delta=delta, accountant=accountant)
            plan = plan_privacy(rows, batch, epochs, config)
            spent = final_epsilon(plan, plan.steps)
            google = spent.crosscheck if spent.crosscheck is not None else float("nan")
            print(
                f"{rows:>7} {plan.sample_rate:>8.5f} {plan.steps:>6} {plan.noise_multiplier:>7.4f} | "
                f"{spent.accountant:4} {spent.opacus:>8.4f} {google:>8.4f} {spent.opacus / google:>7.4f} "
                f"{spent.epsilon:>9.4f}"
            )


if __name__ == "__main__":
    main()
