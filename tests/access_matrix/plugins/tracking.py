"""督办事项: tracking has no routes of its own (its items are reached through the apps that use it:
inspections' rectifications, complaints' hand-over); its evidence files are served by inspections
(see inspections.py, family "trackevidence")."""

from __future__ import annotations

TABLE: dict = {}
