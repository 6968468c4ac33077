"""Handling time and on-time figures of the statistics, read from the monthly tallies (issue 16: they
were every concluded case's dates and deadlines read into Python, then a scan of the year's cases on
each request). The figures must equal the per-case rule (written out again here: calendar days in
Asia/Shanghai, the deciding deadline), and the statistics must read the tallies only, never the cases."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints import selectors, tallies
from complaints.models import Complaint
from tests.complaints.helpers import submit_case

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
YEAR = 2026


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def deadline(day: datetime) -> dict:
    return {"date": day.date().isoformat()}


def case(institution, received, concluded, deadlines, outcome="substantiated"):
    made, _ = submit_case(institution, kind="complaint")
    Complaint.objects.filter(pk=made.pk).update(received_at=received, status="concluded", outcome=outcome,
                                                concluded_at=concluded, deadlines=deadlines)
    tallies.rebuild_complaint_tallies()  # written around the services: recount


def expected(year: int) -> tuple[int, int, int]:
    """(timed, days, on time) case by case, as the statistics counted them before."""
    timed = days = on_time = 0
    for c in Complaint.objects.exclude(status="merged").exclude(outcome=""):
        received = c.received_at.astimezone(SH)
        if received.year != year:
            continue
        if c.concluded_at:
            concluded_on = c.concluded_at.astimezone(SH).date()
            timed += 1
            days += (concluded_on - received.date()).days
            # the deciding deadline: decide (complaints, suggestions), else conclude (reports), else none
            deciding = (c.deadlines.get("decide") or c.deadlines.get("conclude") or {}).get("date")
            on_time += deciding is None or concluded_on.isoformat() <= deciding
    return timed, days, on_time


def make_cases(bank, n: int) -> None:
    for i in range(n):
        received = sh(YEAR, 3, 1 + i % 20, 23, 30)  # late evening: the UTC date is the same, the next day's is not
        concluded = received + timedelta(days=i % 7, minutes=45)  # 00:15 Shanghai the next day(s)
        kinds = [
            {"decide": deadline(received + timedelta(days=3))},  # met when within 3 days
            {"conclude": deadline(received + timedelta(days=5))},  # a report's deadline
            {"decide": deadline(received + timedelta(days=1)), "conclude": deadline(received + timedelta(days=60))},
            {},  # no deadline: on time
            {"accept": deadline(received)},  # no deciding deadline: on time
        ]
        case(bank, received, concluded, kinds[i % len(kinds)])


def test_handling_figures_equal_the_per_case_rule(bank):
    make_cases(bank, 14)
    case(bank, sh(YEAR, 5, 1), None, {"decide": deadline(sh(YEAR, 5, 2))})  # concluded without a time: not timed
    case(bank, sh(YEAR - 1, 12, 31, 23, 55), sh(YEAR, 1, 2), {})  # last year's
    timed, days, on_time = expected(YEAR)
    assert 0 < on_time < timed == 14  # both outcomes present: the test can tell them apart
    stats = selectors.statistics(YEAR)
    assert stats.concluded == 15
    assert stats.on_time == on_time
    assert stats.average_handling_days == (Decimal(days) / timed).quantize(Decimal("0.1"))
    last_year = selectors.statistics(YEAR - 1)
    assert last_year.concluded == 1 and last_year.average_handling_days == Decimal("2.0")  # 31 Dec → 2 Jan


def test_no_concluded_case(bank):
    submit_case(bank, kind="complaint")
    stats = selectors.statistics(YEAR)
    assert stats.average_handling_days is None and stats.on_time == 0 and stats.on_time_rate is None


def test_statistics_queries_do_not_grow_with_cases(bank):
    make_cases(bank, 3)
    with CaptureQueriesContext(connection) as few:
        selectors.statistics(YEAR, per_institution=False)
    make_cases(bank, 12)
    with CaptureQueriesContext(connection) as many:
        selectors.statistics(YEAR, per_institution=False)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_statistics_read_the_tallies_never_the_cases(bank):
    make_cases(bank, 3)
    with CaptureQueriesContext(connection) as ctx:
        stats = selectors.statistics(YEAR)
    assert stats.total == 3 and sum(stats.by_month.values()) == 3 and stats.by_kind == {"complaint": 3}
    assert [row["total"] for row in stats.by_institution] == [3]
    assert not [q["sql"] for q in ctx.captured_queries if 'FROM "complaints_complaint"' in q["sql"]]
