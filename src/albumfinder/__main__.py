"""`python -m albumfinder` starts the desktop app."""

from albumfinder.gui.app import main

if __name__ == "__main__":
    raise SystemExit(main())
