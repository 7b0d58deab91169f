"""Shared test set-up: every test gets its own Album Finder home (index, cache, config),
so nothing touches the user's real directories, and Qt runs offscreen."""

from __future__ import annotations

import os

import pytest

from albumfinder import runtime

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ALBUMFINDER_OFFLINE", "1")  # never probe the internet from tests
# "auto" keeps the CPU-flag rule: no test measures this machine (tests of calibration ask)
os.environ.setdefault("ALBUMFINDER_CALIBRATE", "off")
runtime.tune_process()  # as every entry point does, before torch is imported

# ALBUMFINDER_TEST_CPU=avx2 or =avx512-bf16 runs the whole suite as that CPU kind would: the
# CPU-kind probe reads a fake /proc/cpuinfo (child processes too), and for avx2 torch's,
# oneDNN's, fbgemm's and MKL's kernels are held to AVX2 (set before torch is imported).
_TEST_CPU_FLAGS = {
    "avx2": "fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c",
    "avx512-bf16": "fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c avx512f avx512bw "
    "avx512vl avx512_vnni avx512_bf16",
}
if _test_cpu := os.environ.get("ALBUMFINDER_TEST_CPU"):
    import tempfile

    _fake = os.path.join(tempfile.mkdtemp(prefix="albumfinder-cpu-"), "cpuinfo")
    with open(_fake, "w", encoding="ascii") as _handle:
        _handle.write(f"processor\t: 0\nflags\t\t: {_TEST_CPU_FLAGS[_test_cpu]}\n")
    os.environ["ALBUMFINDER_CPUINFO"] = _fake
    if _test_cpu == "avx2":
        from albumfinder.embedding.cpu import AVX2_LIMITS

        for _name, _value in AVX2_LIMITS.items():
            os.environ.setdefault(_name, _value)


@pytest.fixture(autouse=True)
def album_home(tmp_path, monkeypatch):
    """A private ALBUMFINDER_HOME for each test."""
    home = tmp_path / "albumfinder-home"
    monkeypatch.setenv("ALBUMFINDER_HOME", str(home))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    # the desktop's own settings (default applications, menu entries) stay the user's
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    return home


@pytest.fixture(scope="session")
def warm_model():
    """The built-in model, loaded once for the session (the app, too, keeps a loaded model
    for the life of the process)."""
    from albumfinder.library import Library

    return Library.embedder("builtin").get()


@pytest.fixture
def window(qtbot, warm_model):
    """The app's real main window over a real Library in this test's own home."""
    from albumfinder.gui.main_window import MainWindow
    from albumfinder.library import Library

    library = Library()
    win = MainWindow(library)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    library.close()
