"""The demo district's 督查与整改 (seed_demo calls seed_inspections)."""


def seed_inspections() -> str:
    """Create the demo data once (idempotent); return a one-line summary, or "" for nothing."""
    return ""
