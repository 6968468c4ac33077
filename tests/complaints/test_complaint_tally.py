"""The cases' monthly tally (models.ComplaintTally, issue 16): what the statistics and the dashboards
read instead of scanning the year's cases. Every service that stores or changes a case keeps it in
step in the case's own transaction; a rebuild from the cases gives the same rows; a tally that
drifted never makes a user's action fail; cases arriving at once in one month are all counted."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from complaints import rules, selectors, services, tallies, tasks
from complaints.models import Complaint, ComplaintTally
from tests.complaints.helpers import act, submit_case

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def rows() -> dict[tuple, tuple]:
    """The tally's non-empty rows: key → figures."""
    return {(t.institution_id, t.year, t.month, t.kind, t.outcome): tuple(getattr(t, f) for f in rules.TALLY_FIGURES)
            for t in ComplaintTally.objects.all() if t.cases}


def rebuilt() -> dict[tuple, tuple]:
    tallies.rebuild_complaint_tallies()
    return rows()


def recount() -> dict[tuple, tuple]:
    """The tally by a plain loop over the cases (the rule of the statistics, written out again)."""
    threshold = selectors.satisfied_threshold()
    out: dict[tuple, list[int]] = {}
    for c in Complaint.objects.exclude(status="merged"):
        received = c.received_at.astimezone(SH).date()
        concluded = c.concluded_at.astimezone(SH).date() if c.concluded_at else None
        given = list(c.ratings.values())
        rated = c.kind == "rating" and bool(given)
        entry = out.setdefault((c.institution_id, received.year, received.month, c.kind, c.outcome), [0] * 8)
        for i, value in enumerate((
                1, int(concluded is not None), (concluded - received).days if concluded else 0,
                int(concluded is not None and rules.met_deadline(concluded, c.deadlines)),
                int(rated), int(rated and Decimal(sum(given)) / len(given) >= threshold),
                int(len(given) == 3), sum(given) if len(given) == 3 else 0)):
            entry[i] += value
    return {k: tuple(v) for k, v in out.items()}


def test_every_service_keeps_the_tally_in_step(fc, discipline, bank, other_bank):
    # the intake: every kind, named or not, ratings satisfied or not
    complaint, _ = submit_case(bank, kind="complaint")
    report, _ = submit_case(bank, kind="report", description="员工私下销售理财产品")
    suggestion, _ = submit_case(other_bank, kind="suggestion", description="建议增设窗口")
    duplicate, _ = submit_case(other_bank, kind="suggestion", description="建议增设窗口")
    good, _ = submit_case(bank, kind="rating", description="", ratings={"attitude": 5, "efficiency": 4,
                                                                         "integrity": 5})
    submit_case(bank, kind="rating", description="", ratings={"attitude": 2, "efficiency": 3})
    turned, _ = submit_case(bank, kind="rating", description="柜员索要好处", ratings={"attitude": 1})
    assert rows() == recount() and len(rows()) == 4
    # the state machine: conclusions, a merge, a rating turned into a report, an extension, archiving
    for case, outcome in ((complaint, "substantiated"), (report, "partially_substantiated")):
        act(case, "accept", fc)
        act(case, "verify", fc)
        act(case, "extend", fc, reason="需要调取录像")
        act(case, "conclude", fc, outcome=outcome)
    act(complaint, "close", fc, reply="经核查属实，已处理。")
    act(duplicate, "merge", fc, target=suggestion.pk, reason="同一事项")
    act(turned, "convert_to_report", fc, reason="含举报内容")
    act(good, "archive", fc)
    act(suggestion, "accept", fc)
    act(suggestion, "verify", fc)
    act(suggestion, "conclude", fc, outcome="unsubstantiated")
    figures = rows()
    assert figures == recount() == rebuilt()
    year, month = timezone.localdate().year, timezone.localdate().month
    assert figures[(bank.pk, year, month, "complaint", "substantiated")][:4] == (1, 1, 0, 1)
    assert figures[(other_bank.pk, year, month, "suggestion", "unsubstantiated")][0] == 1  # the duplicate left
    assert figures[(bank.pk, year, month, "report", "")][0] == 1  # the rating turned into a report
    assert figures[(bank.pk, year, month, "rating", "")][4:] == (2, 1, 1, 14)  # 5+4+5; the poor one not scored
    stats = selectors.statistics(year)
    assert (stats.total, stats.concluded, stats.on_time) == (6, 3, 3)
    per_institution = {r["institution_id"]: r for r in stats.by_institution}
    assert per_institution[bank.pk]["avg_rating"] == pytest.approx(14 / 3)
    assert per_institution[other_bank.pk]["avg_rating"] is None


def test_a_removed_hook_would_be_seen(fc, bank, monkeypatch):
    """The comparison above can fail: a conclusion not recorded leaves the tally behind the cases."""
    case, _ = submit_case(bank, kind="complaint")
    act(case, "accept", fc)
    act(case, "verify", fc)
    monkeypatch.setattr(tallies, "record", lambda before, after: None)
    act(case, "conclude", fc, outcome="substantiated")
    assert rows() != recount()
    assert rebuilt() == recount()


def test_backdated_seed_cases_move_with_their_month(fc, bank):
    case, _ = submit_case(bank, kind="complaint")
    services.backdate(case, date(2025, 12, 31))
    assert rows() == recount() == {(bank.pk, 2025, 12, "complaint", ""): (1, 0, 0, 0, 0, 0, 0, 0)}


def test_a_recomputed_deadline_moves_the_on_time_figure(fc, bank):
    """After the holiday table changes, refresh_deadlines recomputes stored due dates; a concluded
    case's on-time figure follows its deciding deadline in the tally."""
    case, _ = submit_case(bank, kind="complaint")
    act(case, "accept", fc)
    act(case, "verify", fc)
    act(case, "conclude", fc, outcome="substantiated")
    stored = Complaint.objects.get(pk=case.pk)
    assert rows()[(bank.pk, *_month(stored), "complaint", "substantiated")][3] == 1  # on time
    # A stale deadline stored before the change (as an older holiday table gave): already missed.
    stale = {**stored.deadlines, "decide": {**stored.deadlines["decide"],
                                            "date": (stored.received_at.date() - timedelta(days=1)).isoformat()}}
    Complaint.objects.filter(pk=case.pk).update(deadlines=stale)
    tallies.rebuild_complaint_tallies()
    assert rows()[(bank.pk, *_month(stored), "complaint", "substantiated")][3] == 0
    assert services.refresh_deadlines(only_provisional=False) == 1
    assert rows() == recount() and rows()[(bank.pk, *_month(stored), "complaint", "substantiated")][3] == 1


def _month(case) -> tuple[int, int]:
    local = case.received_at.astimezone(SH)
    return local.year, local.month


def test_a_drifted_tally_never_fails_an_action(fc, bank):
    case, _ = submit_case(bank, kind="complaint")
    ComplaintTally.objects.all().delete()  # drift: the case's row is gone
    act(case, "accept", fc)
    act(case, "verify", fc)
    act(case, "conclude", fc, outcome="substantiated")  # moves 1 out of a missing row: clamped at 0
    assert Complaint.objects.get(pk=case.pk).status == "concluded"
    assert ComplaintTally.objects.filter(cases__lt=0).count() == 0
    assert rebuilt() == recount()


def test_rebuild_of_some_institutions_leaves_the_others_alone(bank, other_bank):
    submit_case(bank, kind="complaint")
    submit_case(other_bank, kind="complaint")
    ComplaintTally.objects.update(cases=9)
    assert tallies.rebuild_complaint_tallies([bank.pk]) == 1
    assert {k[0]: v[0] for k, v in rows().items()} == {bank.pk: 1, other_bank.pk: 9}
    assert tallies.rebuild_complaint_tallies([]) == 0


def test_nightly_rebuild_and_the_command(bank, capsys):
    name = "complaints.rebuild_complaint_tallies"
    assert [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == name]
    assert tasks.rebuild_complaint_tallies.name == name
    submit_case(bank, kind="complaint")
    ComplaintTally.objects.update(cases=7)
    tasks.rebuild_complaint_tallies()
    assert rows() == recount()
    ComplaintTally.objects.update(cases=7)
    call_command("rebuild_complaint_tallies")
    assert rows() == recount()
    assert "案件月度汇总 1 行" in capsys.readouterr().out


def test_a_changed_threshold_is_followed_by_the_rebuild(bank, settings):
    submit_case(bank, kind="rating", description="", ratings={"attitude": 3, "efficiency": 3})
    (figures,) = rows().values()
    assert figures[4:6] == (1, 0)  # rated, not satisfied at 4
    settings.COMPLAINTS_SATISFIED_THRESHOLD = 3
    (figures,) = rebuilt().values()
    assert figures[4:6] == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_cases_for_the_same_month_are_all_counted(reference_data):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions on one database (PostgreSQL)")
    from tests.factories import InstitutionFactory

    institution = InstitutionFactory(code="LQ-T92")
    per_thread, barrier, errors = 15, threading.Barrier(3), []

    def submit(kind: str) -> None:
        from django.db import connections

        try:
            barrier.wait(10)
            for _ in range(per_thread):
                submit_case(institution, kind=kind, description="柜员索要好处",
                            **({"ratings": {"attitude": 5}} if kind == "rating" else {}))
        except Exception as exc:  # reported below: an error here is a lost case
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(kind,)) for kind in ("complaint", "complaint", "rating")]
    # (Their eager notifications can leave Celery's join flag set: tests/conftest.py resets it.)
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    today = timezone.localdate()
    assert rows() == recount() == {
        (institution.pk, today.year, today.month, "complaint", ""): (2 * per_thread, 0, 0, 0, 0, 0, 0, 0),
        (institution.pk, today.year, today.month, "rating", ""): (per_thread, 0, 0, 0, per_thread, per_thread, 0, 0)}


def test_received_on_new_year_s_eve_in_shanghai_counts_in_december(bank):
    case, _ = submit_case(bank, kind="complaint")
    Complaint.objects.filter(pk=case.pk).update(received_at=datetime(2026, 12, 31, 23, 59, tzinfo=SH))
    tallies.rebuild_complaint_tallies()
    assert list(rows()) == [(bank.pk, 2026, 12, "complaint", "")]
    assert selectors.statistics(2026).by_month == {12: 1} and selectors.statistics(2027).total == 0


def test_the_migration_counts_the_cases_already_stored(fc, bank, other_bank):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    submit_case(bank, kind="complaint")
    submit_case(other_bank, kind="rating", description="", ratings={"attitude": 5})
    case, _ = submit_case(bank, kind="report", description="员工私下销售理财产品")
    act(case, "accept", fc)
    act(case, "verify", fc)
    act(case, "conclude", fc, outcome="substantiated")
    expected = recount()
    ComplaintTally.objects.all().delete()
    migration = importlib.import_module("complaints.migrations.0012_complaint_tally")
    migration.fill(apps, SimpleNamespace(connection=connection))
    assert rows() == expected and len(expected) == 3


def test_a_rebuild_in_small_batches_equals_one_in_a_single_batch(bank, other_bank):
    for institution in (bank, other_bank, bank):
        submit_case(institution, kind="complaint")
    whole = rebuilt()
    ComplaintTally.objects.update(cases=5)
    assert tallies.rebuild_complaint_tallies(per_transaction=1) == 2
    assert rows() == whole == recount()


def test_satisfied_compares_the_exact_mean_with_the_threshold(bank, settings):
    """A mean of 3.666… is below a threshold of 3.67 (it was so in the statistics' SQL), although the
    mean rounded to hundredths is not."""
    settings.COMPLAINTS_SATISFIED_THRESHOLD = 3.67
    submit_case(bank, kind="rating", description="", ratings={"attitude": 4, "efficiency": 4, "integrity": 3})
    (figures,) = rows().values()
    assert figures[4:6] == (1, 0)
    settings.COMPLAINTS_SATISFIED_THRESHOLD = 3.66
    (figures,) = rebuilt().values()
    assert figures[4:6] == (1, 1)
