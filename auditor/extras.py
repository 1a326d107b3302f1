"""Optional parts of auditor, installed as pip extras; a missing one is an input error that names the extra."""

from __future__ import annotations

import importlib.util

from auditor.errors import InputError

# extra -> the modules it brings (pyproject.toml [project.optional-dependencies] installs them).
EXTRAS: dict[str, tuple[str, ...]] = {
    "text": ("transformers", "peft", "safetensors", "tokenizers"),
    "postgres": ("psycopg",),
    "dask": ("distributed",),
    "mlflow": ("mlflow",),
}


def require(extra: str, what: str) -> None:
    """Raise a one-line InputError when ``extra``'s modules are not installed."""
    missing = [module for module in EXTRAS[extra] if importlib.util.find_spec(module) is None]
    if missing:
        raise InputError(
            f"{what} needs auditor's {extra!r} extra ({', '.join(missing)} not installed): "
            f"pip install 'auditor[{extra}]'"
        )
