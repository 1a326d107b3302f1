"""Secret DP randomness: the Gaussian noise and the Poisson sampling from a CSPRNG.

DP-SGD's guarantee assumes the noise and the batch composition are secret. A
PRNG seeded from the run's seed (which the evidence records) lets anyone with
the report regenerate both. ``SecureRandom`` is AES-256 in counter mode, keyed
with 256 bits from ``os.urandom`` (the construction of NIST SP 800-90A's
CTR_DRBG, without reseeding): the key lives in memory only, so nothing in any
output determines the noise.

Normals come from Marsaglia's polar method on 53-bit uniforms, in float64; a
sample's magnitude is therefore bounded by about 8.6 standard deviations. The
report states that floating-point noise is not the ideal real-valued Gaussian.
"""

from __future__ import annotations

import os
import types
from typing import Any

import numpy as np
import torch
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from opacus.utils.uniform_sampler import DistributedUniformWithReplacementSampler, UniformWithReplacementSampler

NOTE_ON = (
    "on: the Gaussian noise and the Poisson sampling come from AES-256-CTR keyed with 256 bits from "
    "os.urandom; the key is never written anywhere, so neither can be regenerated from the report or "
    "the seed (the seed fixes only the split, the initial weights and the canaries)"
)
NOTE_OFF = (
    "off (train.privacy.secure_rng: false): the noise and the Poisson sampling come from torch's PRNG "
    "seeded from the run's seed, which the evidence records, so the guarantee does not hold against "
    "anyone who has the seed"
)


class SecureRandom:
    """A cryptographically secure stream of uniforms, normals and Poisson masks."""

    def __init__(self) -> None:
        cipher = Cipher(algorithms.AES(os.urandom(32)), modes.CTR(os.urandom(16)))
        self._stream = cipher.encryptor()

    def uniform(self, count: int) -> np.ndarray:
        """``count`` uniforms in [0, 1), 53 random bits each."""
        words = np.frombuffer(self._stream.update(bytes(8 * count)), dtype=np.uint64)
        values: np.ndarray = (words >> np.uint64(11)).astype(np.float64) * 2.0**-53
        return values

    def normal(self, count: int) -> np.ndarray:
        """``count`` standard normals (Marsaglia's polar method: no trigonometry, about 21% of pairs rejected)."""
        parts: list[np.ndarray] = []
        needed = count
        while needed > 0:
            pairs = int(needed * 0.67) + 16  # accepted pairs give two normals each; 0.785 of pairs are accepted
            u = 2.0 * self.uniform(pairs) - 1.0
            v = 2.0 * self.uniform(pairs) - 1.0
            radius = u * u + v * v
            keep = (radius > 0.0) & (radius < 1.0)
            u, v, radius = u[keep], v[keep], radius[keep]
            scale = np.sqrt(-2.0 * np.log(radius) / radius)
            drawn = np.concatenate([u * scale, v * scale])[:needed]
            parts.append(drawn)
            needed -= len(drawn)
        values: np.ndarray = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return values

    def normal_like(self, reference: torch.Tensor, std: float) -> torch.Tensor:
        noise = torch.from_numpy(self.normal(reference.numel())).to(dtype=reference.dtype, device=reference.device)
        return noise.view_as(reference) * std

    def poisson_mask(self, rows: int, rate: float, device: torch.device) -> torch.Tensor:
        """Each of ``rows`` rows joins the batch independently with probability ``rate``."""
        return torch.from_numpy(self.uniform(rows) < rate).to(device)


class SecureUniformSampler(UniformWithReplacementSampler):  # type: ignore[misc]  # Opacus is untyped
    """Opacus' Poisson batch sampler, drawing its masks from a ``SecureRandom``."""

    secure: SecureRandom

    def __iter__(self) -> Any:
        for _ in range(self.steps):
            mask = self.secure.poisson_mask(self.num_samples, self.sample_rate, torch.device("cpu"))
            yield mask.nonzero(as_tuple=False).reshape(-1).tolist()


class LockstepDistributedSampler(DistributedUniformWithReplacementSampler):  # type: ignore[misc]  # Opacus is untyped
    """Opacus' distributed Poisson sampler that yields every step, empty batches included.

    Opacus' own sampler skips a rank's empty batch, and that rank then takes one
    step fewer than the others, which desynchronises the all-reduce. The masks come
    from ``secure`` when set, otherwise from the seeded generator."""

    secure: SecureRandom | None = None

    def __iter__(self) -> Any:
        order = torch.randperm(self.total_size, generator=torch.Generator().manual_seed(self.shuffle_seed + self.epoch))
        indices = order[self.rank : self.total_size : self.num_replicas]
        for _ in range(self.num_batches):
            if self.secure is not None:
                mask = self.secure.poisson_mask(self.num_samples, self.sample_rate, torch.device("cpu"))
            else:
                mask = torch.rand(self.num_samples, generator=self.generator) < self.sample_rate
            yield indices[mask.nonzero(as_tuple=False).reshape(-1)].tolist()


def secure_noise(optimizer: Any, secure: SecureRandom) -> None:
    """Make an Opacus optimizer draw its Gaussian noise from ``secure``."""
    from opacus.optimizers.optimizer import _check_processed_flag, _mark_as_processed

    def add_noise(self: Any) -> None:
        std = getattr(self, "_adjusted_noise_multiplier", self.noise_multiplier) * self.max_grad_norm
        for p in self.params:
            _check_processed_flag(p.summed_grad)
            p.grad = (p.summed_grad + secure.normal_like(p.summed_grad, std)).view_as(p)
            _mark_as_processed(p.summed_grad)

    optimizer.add_noise = types.MethodType(add_noise, optimizer)


def secure_engine(optimizer: Any, loader: Any, secure: SecureRandom) -> None:
    """Make an Opacus optimizer and DPDataLoader draw their noise and batches from ``secure``."""
    secure_noise(optimizer, secure)
    sampler = loader.batch_sampler
    if not isinstance(sampler, UniformWithReplacementSampler):
        raise TypeError(f"expected Opacus' Poisson sampler, got {type(sampler).__name__}")
    sampler.__class__ = SecureUniformSampler
    sampler.secure = secure
    sampler.generator = None
