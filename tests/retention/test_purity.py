"""The engine stays pure: no app, web or database imports, no clock reads, no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import retention
from retention import generate_private_key_pem, load_private_key, public_key_pem

SOURCES = sorted(Path(retention.__file__).parent.glob("*.py"))
FORBIDDEN_MODULES = (
    "flask",
    "archive_app",
    "sqlalchemy",
    "celery",
    "storage",
    "indexing",
    "os",
    "time",
)
FORBIDDEN_CALLS = {"today", "now", "utcnow", "time", "open", "urandom"}
ALLOWED_THIRD_PARTY = ("cryptography",)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_imports_are_pure(source: Path) -> None:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            assert top not in FORBIDDEN_MODULES, f"{source.name} imports {name}"
            if top not in ("retention", "__future__") and not _stdlib(top):
                assert top in ALLOWED_THIRD_PARTY, f"{source.name} imports {name}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_no_clock_or_file_access(source: Path) -> None:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert name not in FORBIDDEN_CALLS, f"{source.name}:{node.lineno} calls {name}()"


def _stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names


def test_every_module_has_a_contract_docstring() -> None:
    for source in SOURCES:
        doc = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, source.name


def test_public_api_is_exported() -> None:
    for name in retention.__all__:
        assert hasattr(retention, name), name


def test_private_key_round_trip_with_password() -> None:
    pem = generate_private_key_pem(b"correct horse")
    assert b"ENCRYPTED" in pem
    key = load_private_key(pem, b"correct horse")
    assert public_key_pem(pem, b"correct horse").startswith(b"-----BEGIN PUBLIC KEY-----")
    assert key.sign(b"x")
    with pytest.raises((ValueError, TypeError)):
        load_private_key(pem, b"wrong")
