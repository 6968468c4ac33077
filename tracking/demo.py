"""The demo district's 督办事项 (seed_demo calls seed_tracking)."""


def seed_tracking() -> str:
    """Create the demo data once (idempotent); return a one-line summary, or "" for nothing."""
    return ""
