"""The demo district's 风险预警 (seed_demo calls seed_risk)."""


def seed_risk() -> str:
    """Create the demo data once (idempotent); return a one-line summary, or "" for nothing."""
    return ""
