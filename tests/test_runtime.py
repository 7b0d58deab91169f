"""Importing Album Finder changes nothing in the process; the entry points tune it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_USER_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES")


def _fresh(code: str, **extra: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in _USER_SETTINGS}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_importing_the_package_and_the_registry_tunes_nothing():
    printed = _fresh(
        "import os, sys; import albumfinder; import albumfinder.models.registry;"
        "print(os.environ.get('OMP_WAIT_POLICY', '-'), 'albumfinder.allocator' in sys.modules);"
        "import albumfinder.library;"  # the door too leaves OpenMP alone
        "print(os.environ.get('OMP_WAIT_POLICY', '-'))"
    )
    assert printed == ["-", "False", "-"]  # no OpenMP setting, mallopt never called


@pytest.mark.parametrize("entry", ["albumfinder.cli", "albumfinder.gui.app"])
def test_each_entry_point_tunes_the_process_first(entry):
    # --version answers before anything is loaded; the tuning has been done by then
    code = (
        "import os, sys\n"
        f"from {entry} import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(os.environ.get('OMP_WAIT_POLICY', '-'), 'albumfinder.allocator' in sys.modules)"
    )
    assert _fresh(code)[-2:] == ["PASSIVE", "True"]


def test_tuning_keeps_the_users_own_openmp_setting():
    code = (
        "import os; from albumfinder import runtime; runtime.tune_process();"
        "print(os.environ.get('OMP_WAIT_POLICY', '-'))"
    )
    assert _fresh(code, GOMP_SPINCOUNT="1000") == ["-"]
    assert _fresh(code, OMP_WAIT_POLICY="ACTIVE") == ["ACTIVE"]


def test_pillow_is_set_up_by_the_first_decode_or_by_tune_process_not_by_import():
    """Pillow's settings are global: importing Album Finder leaves them alone; the first
    photo it opens (a library user's) or tune_process (the entry points') sets them."""
    check = (
        "from PIL import Image;"
        "print(Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS,"
        " '.heic' in Image.registered_extensions())"
    )
    png = "import io; buf = io.BytesIO(); Image.new('RGB', (8, 8)).save(buf, 'PNG');"
    printed = _fresh(
        "import albumfinder.library, albumfinder.images as images;"
        f"{check}; {png} images.open_photo_bytes(buf.getvalue()); {check}"
    )
    assert printed == ["False", "False", "True", "True"]
    printed = _fresh(
        "from albumfinder import runtime; runtime.tune_process();"
        f"import albumfinder.images as images; {check}"
    )
    assert printed == ["True", "True"]
