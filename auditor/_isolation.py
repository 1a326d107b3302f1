"""One run leaves the process as it found it: RNGs, warning filters and the root logger are restored."""

from __future__ import annotations

import logging
import random
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def process_state_restored() -> Iterator[None]:
    """Save what a run may change globally (the torch, NumPy and ``random`` generators, ``warnings.filters``,
    the root logger's handlers and level) and put it back afterwards, whatever the outcome."""
    filters = list(warnings.filters)  # first: importing torch adds filters of its own
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import numpy as np
    import torch

    torch_state = torch.random.get_rng_state()
    cuda_ready = torch.cuda.is_available() and torch.cuda.is_initialized()  # type: ignore[no-untyped-call]
    cuda_states = torch.cuda.get_rng_state_all() if cuda_ready else None
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    try:
        yield
    finally:
        torch.random.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        np.random.set_state(numpy_state)
        random.setstate(python_state)
        warnings.resetwarnings()  # empties the list and invalidates the per-module "once" caches
        warnings.filters.extend(filters)  # type: ignore[attr-defined]  # typeshed types it as a Sequence
        root.handlers[:] = handlers
        root.setLevel(level)
