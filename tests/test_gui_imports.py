"""The GUI reaches the core through its door only: it imports ``library``, the error and
report types, ``paths``, image decoding (thumbnails) and the pure-data model registry, and
nothing else of the core."""

from __future__ import annotations

import ast
from pathlib import Path

import albumfinder.gui

ALLOWED = {
    "albumfinder",  # __version__
    "albumfinder.library",
    "albumfinder.errors",
    "albumfinder.report",
    "albumfinder.paths",
    "albumfinder.images",
    "albumfinder.models.registry",
}
GUI = Path(albumfinder.gui.__file__).parent


def _core_imports(source: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(n for n in names if n.split(".")[0] == "albumfinder")
    return {n for n in found if not n.startswith("albumfinder.gui")}


def test_the_gui_imports_only_the_cores_door():
    reaching = {
        f"{source.name}: {name}"
        for source in sorted(GUI.glob("*.py"))
        for name in _core_imports(source)
        if name not in ALLOWED
    }
    assert not reaching, f"the GUI reaches below the Library: {sorted(reaching)}"
