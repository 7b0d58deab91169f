"""Screenshots of the About box and the Keeper Rule dialog, light and dark:
docs/screenshot-about(-dark).png and docs/screenshot-keeper-rule(-dark).png.

Each palette runs in its own process (a palette is set at start). The About box shows what
this machine's own calibration record says (copied from the user's cache folder, if a model
has run here). Run:
    python scripts/screenshot_dialogs.py [--dark | --light] [--out FOLDER]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import platformdirs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from screenshot import offscreen_env, settle, setup_app  # noqa: E402

CALIBRATION = "calibration.json"


def shoot(dark: bool, out: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="albumfinder-shot-"))
    offscreen_env(home)
    app = setup_app(dark)
    from albumfinder import paths

    measured = Path(platformdirs.user_cache_dir("AlbumFinder", appauthor=False))
    if (measured / CALIBRATION).is_file():  # this machine's "auto" measurements, if any
        shutil.copyfile(measured / CALIBRATION, paths.cache_dir() / CALIBRATION)
    from albumfinder.gui.about_dialog import AboutDialog
    from albumfinder.gui.keeper_rule_dialog import KeeperRuleDialog
    from albumfinder.library import Library
    from albumfinder.report import KeeperRule

    suffix = "-dark" if dark else ""
    about = AboutDialog(Library.about())
    about.show()
    settle(app)
    about.grab().save(str(out / f"screenshot-about{suffix}.png"))
    steps = Library.keeper_steps()
    folders = ["/home/ana/Pictures/Camera roll", "/home/ana/Pictures/WhatsApp"]
    rule = KeeperRule(tuple(name for name, _title in steps), (folders[0],))
    keeper = KeeperRuleDialog(rule, steps, folders)
    keeper.show()
    settle(app)
    keeper.grab().save(str(out / f"screenshot-keeper-rule{suffix}.png"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--light", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    if args.dark or args.light:
        shoot(args.dark, args.out)
        return 0
    for flag in ("--light", "--dark"):
        subprocess.run([sys.executable, __file__, flag, "--out", str(args.out)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
