"""Policy-as-code: versioned packs, CEL or metric checks, waivers, and the gate."""

from auditor.policy.engine import evaluate_controls, gate
from auditor.policy.loader import LoadedPack, builtin_packs, load_packs, load_waivers, read_pack
from auditor.policy.model import Control, Pack, WaiverEntry

__all__ = [
    "Control",
    "LoadedPack",
    "Pack",
    "WaiverEntry",
    "builtin_packs",
    "evaluate_controls",
    "gate",
    "load_packs",
    "load_waivers",
    "read_pack",
]
