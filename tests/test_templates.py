"""Renderers only format: no template computes a figure (every figure a reader sees is in the evidence)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import nodes

from auditor.render.html import environment

TEMPLATES = sorted((Path(__file__).resolve().parents[1] / "templates").glob("*.j2"))
AGGREGATES = {"sum", "max", "min", "round"}
ARITHMETIC = (nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow, nodes.Neg)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_template_does_no_arithmetic(template: Path) -> None:
    env = environment()
    tree = env.parse(template.read_text(encoding="utf-8"))
    found = [f"line {node.lineno}: {type(node).__name__}" for node in tree.find_all(ARITHMETIC)]
    found += [f"line {f.lineno}: | {f.name}" for f in tree.find_all(nodes.Filter) if f.name in AGGREGATES]
    assert found == [], f"{template.name} computes figures; put them in the evidence"


def test_the_check_sees_arithmetic() -> None:
    tree = environment().parse("{{ (a / b) | num }} {% set t = namespace(k=0) %}{% set t.k = t.k + 1 %}")
    assert len(list(tree.find_all(ARITHMETIC))) == 2
    assert [f.name for f in environment().parse("{{ xs | sum }}").find_all(nodes.Filter)] == ["sum"]
