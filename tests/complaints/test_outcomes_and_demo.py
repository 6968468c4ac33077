"""The scoring feed (SCORING.md step 4), statistics, and the demo seeder."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from complaints import selectors
from complaints.demo import seed_complaints
from complaints.models import Complaint
from tests.complaints.helpers import act, submit_case

pytestmark = pytest.mark.django_db


def concluded(institution, fc, outcome, received):
    case, _ = submit_case(institution, kind="report")
    act(case, "accept", fc)
    act(case, "verify", fc)
    act(case, "conclude", fc, outcome=outcome)
    Complaint.objects.filter(pk=case.pk).update(received_at=received)
    return case


def test_outcome_counts_by_institution_uses_shanghai_year(bank, other_bank, fc):
    shanghai = timezone.get_default_timezone()
    # 31 Dec 2025 23:30 in Shanghai is still 2025; 1 Jan 2026 00:30 in Shanghai is 2026 (16:30 UTC the day before).
    concluded(bank, fc, "substantiated", datetime(2025, 12, 31, 23, 30, tzinfo=shanghai))
    concluded(bank, fc, "substantiated", datetime(2026, 1, 1, 0, 30, tzinfo=shanghai))
    concluded(bank, fc, "partially_substantiated", datetime(2026, 6, 1, 9, tzinfo=shanghai))
    closed = concluded(bank, fc, "substantiated", datetime(2026, 7, 1, 9, tzinfo=shanghai))
    act(closed, "close", fc, reply="已处理")
    concluded(bank, fc, "unsubstantiated", datetime(2026, 7, 1, 9, tzinfo=shanghai))
    concluded(other_bank, fc, "partially_substantiated", datetime(2026, 8, 1, 9, tzinfo=shanghai))
    # Not concluded: does not count, whatever it says.
    open_case, _ = submit_case(bank, kind="report")
    Complaint.objects.filter(pk=open_case.pk).update(received_at=datetime(2026, 3, 1, tzinfo=shanghai))
    assert selectors.outcome_counts_by_institution(2026) == {bank.pk: (2, 1), other_bank.pk: (0, 1)}
    assert selectors.outcome_counts_by_institution(2025) == {bank.pk: (1, 0)}
    assert selectors.outcome_counts_by_institution(2024) == {}
    # Of some districts only (an aggregation batch's): each institution's own district decides.
    everything = {bank.pk: (2, 1), other_bank.pk: (0, 1)}
    district_of = {bank.pk: bank.district_id, other_bank.pk: other_bank.district_id}
    for district_id in {bank.district_id, other_bank.district_id}:
        assert selectors.outcome_counts_by_institution(2026, districts=[district_id]) == {
            pk: counts for pk, counts in everything.items() if district_of[pk] == district_id}
    assert selectors.outcome_counts_by_institution(2026, districts=[]) == {}


def test_statistics_figures(bank, other_bank, fc):
    year = timezone.localdate().year
    concluded(bank, fc, "substantiated", timezone.now())
    concluded(bank, fc, "unsubstantiated", timezone.now())
    concluded(other_bank, fc, "partially_substantiated", timezone.now())
    submit_case(bank, kind="suggestion", description="建议")
    stats = selectors.statistics(year)
    assert stats.total == 4 and stats.by_kind == {"report": 3, "suggestion": 1}
    assert stats.concluded == 3 and stats.substantiation_rate == Decimal("66.7")
    assert stats.on_time == 3 and stats.on_time_rate == Decimal("100.0")
    assert stats.average_handling_days == Decimal("0.0")
    row = next(r for r in stats.by_institution if r["institution_id"] == bank.pk)
    assert (row["total"], row["reports"], row["substantiated"], row["substantiation_rate"]) == (3, 2, 1,
                                                                                            Decimal("50.0"))
    assert selectors.statistics(year, institution_ids=frozenset({other_bank.pk})).total == 1
    assert selectors.statistics(year, category="insurance").total == 0


def test_demo_seeder_is_idempotent(db):
    from institutions.demo import seed_registry, seed_users

    seed_registry(employees_per_institution=1)
    seed_users()
    line = seed_complaints()
    assert line.startswith("一码举报") and "新增 10 件" in line
    count = Complaint.objects.count()
    again = seed_complaints()
    assert "新增 0 件" in again and Complaint.objects.count() == count
    year = timezone.localdate().year
    counts = {**selectors.outcome_counts_by_institution(year - 1), **selectors.outcome_counts_by_institution(year)}
    assert any(full for full, _ in counts.values())
    statuses = set(Complaint.objects.values_list("status", flat=True))
    assert {"closed", "forwarded_discipline", "referred_institution", "received"} <= statuses
