"""Where the browser tests save their screenshots: a folder under the system's temporary directory,
so a test run leaves the working tree as it was; `SCREENSHOTS_DIR=docs/screenshots make test`
refreshes the committed ones (README)."""

import os
import tempfile
from pathlib import Path


def folder() -> Path:
    chosen = os.environ.get("SCREENSHOTS_DIR", "")
    path = Path(chosen) if chosen else Path(tempfile.gettempdir()) / "clean-finance-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


SHOTS = folder()
