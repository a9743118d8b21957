"""The audit trail lies below every area: it imports none of them."""

from __future__ import annotations

import ast
from pathlib import Path

import nuanxin.audit

AREAS = (
    "accounts",
    "deliveries",
    "donations",
    "help_requests",
    "households",
    "offers",
    "regions",
    "rounds",
    "warehouses",
)


def test_the_audit_area_imports_no_area() -> None:
    package = Path(nuanxin.audit.__file__).parent
    imported: set[str] = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    areas = {m for m in imported if m.split(".")[:2][-1] in AREAS and m.startswith("nuanxin.")}
    assert areas == set()
