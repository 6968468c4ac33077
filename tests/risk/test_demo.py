"""seed_risk: a year of synthetic extracts for three 路桥 banks, planted cases raised once, near misses not."""

from collections import Counter

import pytest

from institutions.demo import seed_registry, seed_users
from risk.demo import DEMO_BANKS, seed_risk
from risk.models import Alert, Transaction


@pytest.mark.django_db
def test_seed_risk_plants_every_rule_and_is_idempotent():
    seed_registry()
    seed_users()
    summary = seed_risk()
    assert "风险预警" in summary
    counts = Counter((a.institution.code, a.rule) for a in Alert.objects.select_related("institution"))
    for code in DEMO_BANKS:
        for rule in ("R01", "R02", "R03", "R05", "R06"):
            assert counts[(code, rule)] == 1, (code, rule, counts)
    assert counts[(DEMO_BANKS[0], "R04")] == 1 and sum(counts.values()) == 16
    planted = {a.employee_no for a in Alert.objects.filter(institution__code=DEMO_BANKS[0])}
    assert planted == {"E001", "E002", "E004", "E006", "E007", "E009"}  # near misses E003, E005, E008, E010: none
    assert Alert.objects.filter(status="escalated").count() == 1
    rows = Transaction.objects.count()
    assert seed_risk() == ""
    assert Transaction.objects.count() == rows and Alert.objects.count() == 16
