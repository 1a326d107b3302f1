"""Static checks on our own source: no unsafe deserialisation.

Model weights cross a process boundary (DDP workers send state dicts back), and config
files come from users. ``torch.load`` must run with ``weights_only=True``, YAML goes
through a SafeLoader, and nothing unpickles.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "auditor"
FILES = sorted(SOURCE.rglob("*.py"))


def _calls(tree: ast.AST, dotted: str) -> list[ast.Call]:
    owner, _, name = dotted.rpartition(".")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
            value = node.func.value
            if isinstance(value, ast.Name) and value.id == owner:
                found.append(node)
    return found


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SOURCE)) for p in FILES])
def test_no_unsafe_deserialisation(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for call in _calls(tree, "torch.load"):
        flag = _keyword(call, "weights_only")
        assert isinstance(flag, ast.Constant) and flag.value is True, (
            f"{path}:{call.lineno}: torch.load without weights_only=True"
        )
    for call in _calls(tree, "yaml.load"):
        loader = _keyword(call, "Loader")
        assert isinstance(loader, ast.Name) and loader.id in {"SafeLoader", "_DatesAsText"}, f"{path}:{call.lineno}"
    for call in _calls(tree, "yaml.unsafe_load") + _calls(tree, "pickle.loads") + _calls(tree, "pickle.load"):
        raise AssertionError(f"{path}:{call.lineno}: unsafe deserialisation")


def test_the_checks_see_the_calls_we_make() -> None:
    """The walker finds the real torch.load in the DDP module, so the test can fail."""
    ddp = ast.parse((SOURCE / "train" / "ddp.py").read_text(encoding="utf-8"))
    assert _calls(ddp, "torch.load")
    bad = ast.parse("import torch\ntorch.load(f)\n")
    assert _keyword(_calls(bad, "torch.load")[0], "weights_only") is None


def test_our_yaml_loader_is_safe() -> None:
    import yaml

    from auditor.yamlio import _DatesAsText

    assert issubclass(_DatesAsText, yaml.SafeLoader)
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("!!python/object/apply:os.system ['true']", Loader=_DatesAsText)
    assert yaml.load("expires: 2027-01-01", Loader=_DatesAsText) == {"expires": "2027-01-01"}
