"""The demo district's 年度活动与通知 (seed_demo calls seed_activities)."""


def seed_activities() -> str:
    """Create the demo data once (idempotent); return a one-line summary, or "" for nothing."""
    return ""
