"""The matrix's per-app parts: one module per app (tracking.py, inspections.py, ...), each with

    def build(w) -> None      # adds w.objs[family] = {"A": obj, "B": obj, "C": obj} (or {"-": obj})
    TABLE: dict[str, R]       # route name -> R(...), as in table.py

so that apps added later extend the world and the table without editing the shared modules.
`build` runs at the end of world._build (everything of the base world exists); a module's TABLE is
merged into table.TABLE (a route named twice is an error).
"""

from __future__ import annotations

import importlib
import pkgutil


def modules():
    return [importlib.import_module(f"{__name__}.{info.name}")
            for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)]


def build_all(w) -> None:
    for module in modules():
        build = getattr(module, "build", None)
        if build:
            build(w)


def tables() -> dict:
    merged: dict = {}
    for module in modules():
        for key, route in getattr(module, "TABLE", {}).items():
            assert key not in merged, f"{key} is in two plugin tables"
            merged[key] = route
    return merged
