"""The seams of the architecture, checked on the source (issue 11).

The faces (the GUI and the CLI) reach the core through ``albumfinder.library.Library`` and a
few plain modules only, and the core never loads Qt.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import albumfinder

PACKAGE = Path(albumfinder.__file__).resolve().parent

#: What a face may import from the package (besides the faces' own modules).
FACE_MAY_IMPORT = frozenset(
    {
        "albumfinder",  # the package itself, for __version__
        "albumfinder.library",
        "albumfinder.errors",
        "albumfinder.report",
        "albumfinder.paths",
        "albumfinder.images",  # decoding for thumbnails
        "albumfinder.models.registry",  # pure data: the models on offer
        "albumfinder.runtime",  # process tuning, called first by each entry point
    }
)
FACES = ("albumfinder.gui", "albumfinder.cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    root = PACKAGE.parent
    return (root / relative).with_suffix(".py").is_file() or (root / relative).is_dir()


def _face_files() -> list[Path]:
    files = sorted((PACKAGE / "gui").rglob("*.py"))
    files += sorted(PACKAGE.glob("cli*.py"))
    if (PACKAGE / "cli").is_dir():
        files += sorted((PACKAGE / "cli").rglob("*.py"))
    return files


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every albumfinder module ``path`` imports, also inside functions
    and under TYPE_CHECKING (a type-only import couples the face to the module all the same).
    ``from package import name`` counts as importing ``package.name`` where that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..library import Library
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if _is_module(candidate) else base))
    ours = {(line, name) for line, name in found if name.split(".")[0] == "albumfinder"}
    return sorted(ours)


def _allowed_in_a_face(module: str) -> bool:
    return module in FACE_MAY_IMPORT or any(
        module == face or module.startswith(face + ".") for face in FACES
    )


def test_the_face_modules_are_found():
    names = {_module_name(path) for path in _face_files()}
    assert "albumfinder.gui.app" in names and any(n.startswith("albumfinder.cli") for n in names)


def test_faces_import_only_library_and_the_plain_modules():
    offending = []
    for path in _face_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        for line, module in _imported_modules(path):
            if not _allowed_in_a_face(module):
                where = path.relative_to(PACKAGE.parent)
                offending.append(f"{where}:{line}: {module}: {lines[line - 1].strip()}")
    print("\n".join(offending))
    assert offending == [], f"{len(offending)} imports reach below Library:\n" + "\n".join(
        offending
    )


def _core_modules() -> list[str]:
    """Every module outside gui/, except the ``__main__`` modules (they start a face)."""
    names = [
        _module_name(path)
        for path in sorted(PACKAGE.rglob("*.py"))
        if "gui" not in path.relative_to(PACKAGE).parts[:1]
    ]
    return [name for name in names if not name.endswith(".__main__")]


QT_LOADED = (
    "import importlib, sys\n"
    "for name in sys.argv[1:]:\n"
    "    importlib.import_module(name)\n"
    "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))\n"
    "importlib.import_module('albumfinder.gui.main_window')  # the probe sees Qt when it is there\n"
    "print('PySide6' in sys.modules)\n"
)


def test_the_core_loads_no_qt():
    modules = _core_modules()
    assert "albumfinder.library" in modules and not any(".gui" in m for m in modules)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE.parent), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", QT_LOADED, *modules],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    loaded, probe = out.stdout.splitlines()[-2:]
    print(f"{len(modules)} core modules imported; Qt modules loaded: {loaded}")
    assert loaded == "[]", f"a core module loads Qt: {loaded}"
    assert probe == "True"
