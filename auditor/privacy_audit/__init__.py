"""Empirical privacy audit: one-run canary audit and membership inference."""

from auditor.privacy_audit.audit import run_audit
from auditor.privacy_audit.bound import epsilon_lower_bound, p_value
from auditor.privacy_audit.canaries import CanarySet, make_canaries, with_canaries

__all__ = ["CanarySet", "epsilon_lower_bound", "make_canaries", "p_value", "run_audit", "with_canaries"]
