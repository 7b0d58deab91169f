"""The desktop app (PySide6): a thin face over :mod:`albumfinder.library`."""
