"""Screenshots of the Duplicates page and its compare view (``screenshot.py --page
duplicates``): docs/screenshot-duplicates(-dark).png and docs/screenshot-compare(-dark).png.

The album: sample photos (../shared/data/caltech101-subset) in a "Camera" folder, plus
copies made here in other folders the way they come about: a byte copy under another name
("Downloads"), a smaller re-compressed copy ("WhatsApp"), a brightened PNG re-save
("Edited"). The real app indexes it with the built-in model and groups it.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from PIL import Image, ImageEnhance

CAMERA = {"butterfly": 6, "flamingo": 5, "dolphin": 5, "sunflower": 5, "lotus": 5, "starfish": 4}
#: (category, photo number, what is made of it)
COPIES = [
    ("butterfly", 1, "download"),
    ("butterfly", 1, "whatsapp"),
    ("flamingo", 2, "whatsapp"),
    ("dolphin", 3, "download"),
    ("sunflower", 1, "edited"),
    ("sunflower", 1, "whatsapp"),
    ("lotus", 4, "whatsapp"),
    ("starfish", 2, "edited"),
    ("flamingo", 4, "download"),
]
COMPARE_GROUP = ("sunflower", 1)  # the group shown in the compare view


def make_album(base: Path, samples: Path) -> list[Path]:
    camera = base / "Camera"
    camera.mkdir(parents=True, exist_ok=True)
    day = 0
    for category, count in CAMERA.items():
        for photo in sorted((samples / category).glob("*.jpg"))[:count]:
            target = camera / f"{category}_{photo.name}"
            shutil.copy2(photo, target)
            day += 1  # taken days apart: different shots, no burst
            os.utime(target, (1_650_000_000 + day * 86_400,) * 2)
    folders = {
        "download": base / "Downloads",
        "whatsapp": base / "WhatsApp",
        "edited": base / "Edited",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    for n, (category, number, how) in enumerate(COPIES):
        source = camera / f"{category}_image_{number:04d}.jpg"
        if how == "download":
            shutil.copyfile(source, folders[how] / f"IMG-{n:03d}.jpg")
            continue
        with Image.open(source) as image:
            image = image.convert("RGB")
            if how == "whatsapp":
                small = image.resize(
                    (image.width // 2, image.height // 2), Image.Resampling.LANCZOS
                )
                small.save(folders[how] / f"WA{n:04d}.jpg", quality=60)
            else:
                ImageEnhance.Brightness(image).enhance(1.12).save(
                    folders[how] / f"{category}-edit.png"
                )
    return [camera, *folders.values()]


def shoot(window, app, out_dir: Path, dark: bool) -> None:
    """Group the album on the Duplicates page, save it, then the compare view."""
    from albumfinder.gui.duplicates_page import DuplicatesPage

    def wait(condition, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise SystemExit(f"timed out waiting for {what}")
            app.processEvents()
            time.sleep(0.01)

    def settle(n: int = 25) -> None:
        for _ in range(n):
            app.processEvents()
            time.sleep(0.02)

    page = window.findChild(DuplicatesPage, "duplicatesPage")
    window.show_page("duplicates")
    shown: list[bool] = []
    page.groupsShown.connect(lambda: shown.append(True))
    page.find_groups()
    wait(lambda: shown, 300, "the groups")
    model = page.model
    thumbs = window.thumbnails

    def thumbnails_ready() -> bool:
        view = page.list.viewport().rect()
        rows = [
            r
            for r in range(model.rowCount())
            if page.list.visualRect(model.index(r)).intersects(view)
        ]
        return all(
            thumbs.cached(m.path, 176) is not None or m.path in model.failed
            for r in rows
            for m in model.group(r).members[:5]
        )

    settle()
    wait(thumbnails_ready, 60, "thumbnails")
    page.list.select_row(0)
    page.list.setFocus()
    settle()
    suffix = "-dark" if dark else ""
    window.grab().save(str(out_dir / f"screenshot-duplicates{suffix}.png"))
    print(out_dir / f"screenshot-duplicates{suffix}.png", f"({model.rowCount()} groups)")

    wanted = f"{COMPARE_GROUP[0]}_image_{COMPARE_GROUP[1]:04d}.jpg"
    group = next(
        (g for g in model.groups() if any(m.path.endswith(wanted) for m in g.members)),
        model.group(0),
    )
    page.open_compare(group)
    wait(page.compare.is_loaded, 60, "the compare view's photos")
    settle()
    window.grab().save(str(out_dir / f"screenshot-compare{suffix}.png"))
    print(out_dir / f"screenshot-compare{suffix}.png")


def run(dark: bool, home: Path, out_dir: Path, samples: Path) -> None:
    """Start the app (``screenshot.py``'s set-up), index the album, take both pictures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import screenshot

    screenshot.offscreen_env(home / "albumfinder-home")
    app = screenshot.setup_app(dark)  # as screenshot.py's pictures
    from albumfinder.gui.app import open_library
    from albumfinder.gui.main_window import MainWindow

    folders = make_album(home / "Pictures", samples)
    library = open_library()
    window = MainWindow(library)
    window.resize(1200, 760)
    window.show()
    end = time.monotonic() + 60
    while not window.engine.is_open and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    finished: list[object] = []
    window.engine.indexFinished.connect(finished.append)
    for folder in folders:
        window.add_folder(str(folder))
    screenshot.wait_for(app, lambda: finished and not window.engine.is_indexing, 600, "indexing")
    shoot(window, app, out_dir, dark)
    window.close()
    library.close()


def main() -> int:
    import argparse
    import subprocess
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--light", action="store_true")
    parser.add_argument("--samples", type=Path, help="the caltech101-subset/images folder")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    samples = args.samples or next(
        (
            base / "shared" / "data" / "caltech101-subset" / "images"
            for base in (root.parent, root.parent.parent)
            if (base / "shared" / "data" / "caltech101-subset" / "images").is_dir()
        ),
        None,
    )
    if samples is None:
        raise SystemExit("the sample photos (../shared/data/caltech101-subset) are not here")
    if args.dark or args.light:
        with tempfile.TemporaryDirectory(prefix="albumfinder-shot-") as home:
            run(args.dark, Path(home), root / "docs", samples)
        return 0
    for flag in ("--light", "--dark"):  # one process each: a palette is set at start
        more = ["--samples", str(samples)]
        subprocess.run([sys.executable, __file__, flag, *more], check=True, cwd=str(root))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
