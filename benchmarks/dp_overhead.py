"""DP-SGD against non-private training: seconds per epoch, side by side, in one run.

    .venv/bin/python benchmarks/dp_overhead.py [--rounds 5] [--device cpu|cuda] [--modes bk,ghost,hooks]

A mode with the suffix ``-seeded`` (``bk-seeded``) draws the noise and the Poisson masks
from torch's seeded PRNG (``secure_rng: false``) instead of the default CSPRNG, so the
cost of secret randomness is measured side by side.

For each model, the same initial weights and data are trained round by round:
one non-private run and one DP run per clipping mode, alternating, so machine
noise hits all of them alike. The first round and the first epoch of every run
are warm-up (allocator, lazy initialisation) and are not counted. It prints the
median seconds per epoch and the DP / non-private ratio. The models are the credit example as configured
(examples/credit-scoring/audit.yaml, canaries included as in a real run) and
the 20k-row MLP 64-256-256-2 from the issue, which DEVELOPERS.md timed at 32x
(hooks) and 3.2x (ghost).
"""

from __future__ import annotations

import argparse
import copy
import statistics

import torch
from _common import REPO, machine

from auditor.config import TrainConfig, load_config
from auditor.data import load_data
from auditor.privacy_audit import make_canaries, with_canaries
from auditor.tasks import TASKS
from auditor.train.accounting import plan_privacy
from auditor.train.loop import train_baseline, train_private
from auditor.train.models import build_model


def credit_case() -> tuple[str, TrainConfig, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list[int]]:
    config = load_config(REPO / "examples" / "credit-scoring" / "audit.yaml")
    task = TASKS["tabular-classification"]
    prepared = task.prepare(load_data(config), None, config.train, config.seed)
    canaries = make_canaries(config.audit, task, prepared, config.seed)
    x, y = with_canaries(prepared.x_train, prepared.y_train, canaries)
    train = config.train
    layers = "-".join(map(str, [prepared.input_shape[0], *train.hidden_layers, 2]))
    name = f"credit example: MLP {layers}, {len(x)} rows, batch {train.batch_size}"
    return name, train, x, y, prepared.x_test, prepared.y_test, train.hidden_layers


def issue_case() -> tuple[str, TrainConfig, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list[int]]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(20000, 64, generator=generator)
    y = (x @ torch.randn(64, generator=generator) > 0).long()
    train = TrainConfig(batch_size=256, learning_rate=0.1, hidden_layers=[256, 256])
    return "issue's MLP 64-256-256-2, 20000 rows, batch 256", train, x, y, x[:2000], y[:2000], [256, 256]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--modes", default="bk,ghost")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (the first of each run is dropped)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    modes = args.modes.split(",")
    print(f"machine: {machine()}; device {args.device}; torch threads {torch.get_num_threads()}")
    for name, config, x, y, x_test, y_test, hidden in (credit_case(), issue_case()):
        config = config.model_copy(update={"epochs": args.epochs})
        device = torch.device(args.device)
        torch.manual_seed(0)
        initial = build_model("mlp", tuple(x.shape[1:]), 2, hidden).module.to(device)
        base_times: list[float] = []
        dp_times: dict[str, list[float]] = {m: [] for m in modes}
        for round_ in range(args.rounds + 1):
            base = train_baseline(copy.deepcopy(initial), x, y, x_test, y_test, config, round_)
            for mode in modes:
                clipping, _, seeded = mode.partition("-")
                privacy = config.privacy.model_copy(update={"clipping": clipping, "secure_rng": seeded != "seeded"})
                cfg = config.model_copy(update={"privacy": privacy})
                plan = plan_privacy(len(x), cfg.batch_size, cfg.epochs, cfg.privacy)
                fit, _ = train_private(copy.deepcopy(initial), x, y, x_test, y_test, cfg, plan, round_)
                if round_:  # round 0 warms up caches and lazy imports; each run's first epoch is dropped too
                    dp_times[mode] += fit.epoch_seconds[1:]
                if args.verbose:
                    print(f"    round {round_} {mode}: {[round(t * 1000) for t in fit.epoch_seconds]} ms")
            if round_:
                base_times += base.epoch_seconds[1:]
            if args.verbose:
                print(f"    round {round_} non-private: {[round(t * 1000) for t in base.epoch_seconds]} ms")
        base_median = statistics.median(base_times)
        print(f"\n{name}: non-private {base_median * 1000:.1f} ms/epoch")
        for mode, times in dp_times.items():
            median = statistics.median(times)
            print(f"  DP ({mode:10s}) {median * 1000:8.1f} ms/epoch  ratio {median / base_median:5.2f}x")


if __name__ == "__main__":
    main()
