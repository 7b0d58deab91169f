"""Every location Album Finder reads or writes, in one place.

By default the platform's user directories (platformdirs). The environment variable
``ALBUMFINDER_HOME`` moves all of them under one root: tests use it, and so can people
who want the index somewhere else.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "AlbumFinder"
HOME_ENV = "ALBUMFINDER_HOME"
#: Set (to anything but 0/false/no) to never download: the tests, and people who want that.
OFFLINE_ENV = "ALBUMFINDER_OFFLINE"


def downloads_off() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _root() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value).expanduser().resolve() if value else None


def _location(sub: str, platform_dir: str) -> Path:
    root = _root()
    path = root / sub if root is not None else Path(platform_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Where the index database lives."""
    return _location("data", platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Downloaded model weights and thumbnails: everything that can be rebuilt."""
    return _location("cache", platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """Settings of the desktop app."""
    return _location("config", platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    """Crash logs and other logs."""
    return _location("logs", platformdirs.user_log_dir(APP_NAME, appauthor=False))


def weights_dir() -> Path:
    path = cache_dir() / "weights"
    path.mkdir(parents=True, exist_ok=True)
    return path


def index_path() -> Path:
    return data_dir() / "index.sqlite3"


def torch_hub_checkpoints_dir() -> Path:
    """The torch-hub checkpoint cache a dinov2_retrieval user already has."""
    torch_home = os.environ.get("TORCH_HOME")
    if torch_home:
        base = Path(torch_home).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg).expanduser() / "torch" if xdg else Path.home() / ".cache" / "torch"
    return base / "hub" / "checkpoints"
