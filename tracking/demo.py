"""The demo district's 督办事项 (seed_demo calls seed_tracking).

Tracked items are created by the apps that hand duties to institutions (inspections' findings,
complaints' hand-overs, campaign returns), so their demo data makes them: see inspections/demo.py.
"""


def seed_tracking() -> str:
    """Nothing of its own to seed; kept so seed_demo's order stays explicit."""
    return ""
