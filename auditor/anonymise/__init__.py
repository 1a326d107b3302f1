"""Anonymisation of free text before training (presidio-anonymizer), with a residual rescan."""

from auditor.anonymise.evidence import AnonymisationSection, OperatorUse

__all__ = ["AnonymisationSection", "OperatorUse"]
