"""The folder layout is the architecture: check the import rules of docs/design.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "smpkit"
LIBRARY = ["protocol", "transport", "client", "image", "workflows"]


def imports_of(package: str) -> dict[str, set[str]]:
    """Module path -> every module it imports (top level or inside functions)."""
    found: dict[str, set[str]] = {}
    for path in (SRC / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(SRC))] = names
    return found


@pytest.mark.parametrize("package", LIBRARY)
def test_the_library_never_imports_the_simulator_or_the_cli(package: str) -> None:
    offenders = {
        module: sorted(n for n in names if n.split(".")[:2] in (["smpkit", "simulator"], ["smpkit", "cli"]))
        for module, names in imports_of(package).items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_the_protocol_core_does_no_io() -> None:
    forbidden = ("asyncio", "socket", "serial", "bleak", "bumble", "smpkit.transport", "smpkit.client")
    offenders = {
        module: sorted(n for n in names if n.split(".")[0] in forbidden or n.startswith(forbidden))
        for module, names in imports_of("protocol").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_images_depend_only_on_the_protocol_core() -> None:
    allowed = ("smpkit.image", "smpkit.protocol")
    offenders = {
        module: sorted(n for n in names if n.startswith("smpkit") and not n.startswith(allowed))
        for module, names in imports_of("image").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}
