"""Start-up (issue #5, point 6): `albumfinder-cli --help` within 0.5 s, the window within 1 s.

Each launch is a fresh process; median of --repeat launches. Baseline in the same run:
`python -c pass`, the floor any Python program pays. The window time runs from just before
the process is spawned to the main window's first turn of the event loop after ``show()``
(Qt's offscreen platform where there is no display); it also says whether torch had been
imported by then (it should not: the model loads later, on a worker thread). Run:
    python benchmarks/bench_startup.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import machine, mark, print_table

WINDOW = r"""
import sys, time
t0 = float(sys.argv[1])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import albumfinder.gui.main_window as main_window

original_show = main_window.MainWindow.show

def show(self):
    original_show(self)
    def report():
        print(time.time() - t0, int("torch" in sys.modules), flush=True)
        QApplication.instance().exit(0)
    QTimer.singleShot(0, report)

main_window.MainWindow.show = show
from albumfinder.gui.app import main
sys.argv = ["albumfinder"]
raise SystemExit(main([]))
"""


def launch(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def window_time(env: dict[str, str]) -> tuple[float, bool]:
    out = subprocess.run(
        [sys.executable, "-c", WINDOW, repr(time.time())],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(out.stderr[-2000:])
    seconds, torch_loaded = out.stdout.split()[-2:]
    return float(seconds), torch_loaded == "1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    cli = os.path.join(os.path.dirname(sys.executable), "albumfinder-cli")
    with tempfile.TemporaryDirectory(prefix="af-bench-start-") as home:
        env = dict(os.environ, ALBUMFINDER_HOME=home, ALBUMFINDER_OFFLINE="1")
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        launch([sys.executable, "-c", "pass"], env)  # warm the file cache
        launch([cli, "--help"], env)
        floor = statistics.median(
            launch([sys.executable, "-c", "pass"], env) for _ in range(args.repeat)
        )
        helps = statistics.median(launch([cli, "--help"], env) for _ in range(args.repeat))
        rows = [
            [
                "albumfinder-cli --help",
                f"{helps * 1000:.0f} ms",
                f"{floor * 1000:.0f} ms",
                f"≤ 500 ms {mark(helps <= 0.5)}",
            ]
        ]
        try:
            window_time(env)  # warm-up: Qt's caches
            runs = [window_time(env) for _ in range(args.repeat)]
            shown = statistics.median(r[0] for r in runs)
            torch_early = any(r[1] for r in runs)
            rows.append(
                [
                    "GUI: launch → main window shown",
                    f"{shown * 1000:.0f} ms"
                    + (" (torch already imported!)" if torch_early else " (torch not imported)"),
                    f"{floor * 1000:.0f} ms",
                    f"≤ 1000 ms {mark(shown <= 1.0)}",
                ]
            )
        except (ImportError, RuntimeError, subprocess.TimeoutExpired) as exc:
            rows.append(["GUI window", f"not measured: {str(exc).splitlines()[-1:]}", "", ""])
    print(f"Machine: {machine()}")
    print_table(
        f"Start-up (median of {args.repeat} launches)",
        ["what", "time", "baseline: python -c pass", "target"],
        rows,
    )


if __name__ == "__main__":
    main()
