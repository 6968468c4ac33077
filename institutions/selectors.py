"""Reads other apps make of institutions' data beyond its models."""

from __future__ import annotations


def change_counters() -> tuple[str, ...]:
    """The core.ChangeCounter names that move whenever an institution or an employee is written, by any
    path (core/changes.py: counted by the database on every statement, in the writing transaction):
    part of the key under which other apps cache figures scoped by institutions' district and category
    or by employees' institution."""
    return ("institutions.institution", "institutions.employee")
