"""The task axis. Importing this package registers the built-in tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.tasks.base import TASKS, BuiltModel, Prepared, Rewrite, Task, get_task, register
from auditor.tasks.causal_lm import CausalLanguageModel
from auditor.tasks.image_classification import ImageClassification
from auditor.tasks.tabular_classification import TabularClassification
from auditor.tasks.tabular_regression import TabularRegression
from auditor.tasks.text_classification import TextClassification

if TYPE_CHECKING:
    from auditor.data import LoadedData

register(TabularClassification())
register(ImageClassification())
register(TabularRegression())
register(TextClassification())
register(CausalLanguageModel())

REGRESSION_MIN_VALUES = 20

__all__ = ["TASKS", "BuiltModel", "Prepared", "Rewrite", "Task", "get_task", "infer_task", "register"]


def infer_task(data: LoadedData) -> tuple[Task, str]:
    """The task for a config without ``train.task``, and why it was chosen (recorded in the evidence)."""
    if data.format == "imagefolder":
        return TASKS["image-classification"], "inferred: the data is an image folder"
    if data.text:
        return TASKS["text-classification"], "inferred: data.text names the text column(s)"
    regression = TASKS["tabular-regression"]
    distinct = int(data.frame[data.target].nunique())
    if regression.accepts(data) is None and distinct > REGRESSION_MIN_VALUES:
        return regression, f"inferred: numeric target with {distinct} distinct values (> {REGRESSION_MIN_VALUES})"
    return TASKS["tabular-classification"], f"inferred: target with {distinct} distinct values"
