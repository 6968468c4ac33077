"""The questionnaires' monthly satisfaction tally: kept in step by every answer given through the
service, rebuilt from the answers, bucketed by the Asia/Shanghai month, and safe under concurrency."""

import importlib
import threading
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from complaints import rules, services, tasks
from complaints import selectors as complaint_selectors
from complaints.models import Complaint, Question, SatisfactionTally, SurveyResponse
from complaints.tallies import rebuild_complaint_tallies
from dashboards import data as dashboard_data
from dashboards.selectors import Scope
from tests.complaints.helpers import submit_case

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
YEAR = 2026


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def questionnaire(db):
    return services.ensure_questionnaire(YEAR)


def answer(questionnaire, institution, rating: int | None, when: datetime):
    """Answer every rating question with `rating` (none when None) and the yes/no ones harmlessly."""
    answers = {}
    for q in questionnaire.questions.all():
        if q.kind == Question.Kind.RATING and rating is not None:
            answers[q.pk] = str(rating)
        elif q.kind == Question.Kind.YES_NO:
            answers[q.pk] = "yes"
    return services.submit_survey(questionnaire, institution, answers, submitted_at=when).response


def tallies() -> dict[tuple[int, int, int], tuple[int, int]]:
    return {(t.institution_id, t.year, t.month): (t.rated, t.satisfied) for t in SatisfactionTally.objects.all()}


def recount() -> dict[tuple[int, int, int], tuple[int, int]]:
    """The tallies recomputed from the answers with a plain loop: Shanghai month, rated = satisfied known."""
    out: dict[tuple[int, int, int], list[int]] = {}
    for response in SurveyResponse.objects.all():
        if response.satisfied is None:
            continue
        local = response.submitted_at.astimezone(SH)
        entry = out.setdefault((response.institution_id, local.year, local.month), [0, 0])
        entry[0] += 1
        entry[1] += 1 if response.satisfied else 0
    return {k: (rated, satisfied) for k, (rated, satisfied) in out.items()}


def test_project_time_zone_is_shanghai():
    # The buckets below are Asia/Shanghai months because that is the project's time zone.
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ


def test_answers_through_the_service_are_tallied_by_shanghai_month(questionnaire, bank, other_bank):
    satisfied = answer(questionnaire, bank, 5, sh(YEAR, 3, 31, 23, 30))  # 15:30 UTC, 31 March
    unsatisfied = answer(questionnaire, bank, 2, sh(YEAR, 4, 1, 0, 30))  # 16:30 UTC, still 31 March
    unrated = answer(questionnaire, bank, None, sh(YEAR, 4, 1, 0, 40))
    assert (satisfied.satisfied, unsatisfied.satisfied, unrated.satisfied) == (True, False, None)
    answer(questionnaire, bank, 4, sh(YEAR, 4, 30, 23, 59))
    answer(questionnaire, bank, 3, sh(YEAR, 1, 1, 0, 10))  # 2025-12-31 16:10 UTC: January 2026 here
    answer(questionnaire, other_bank, 4, sh(YEAR, 4, 1, 0, 30))
    answer(questionnaire, other_bank, 5, sh(YEAR - 1, 12, 31, 23, 50))

    assert tallies() == recount()
    assert tallies() == {
        (bank.pk, YEAR, 3): (1, 1),
        (bank.pk, YEAR, 4): (2, 1),  # the unrated answer counts nowhere
        (bank.pk, YEAR, 1): (1, 0),
        (other_bank.pk, YEAR, 4): (1, 1),
        (other_bank.pk, YEAR - 1, 12): (1, 1),
    }


def test_rebuild_from_scratch_gives_the_same_tallies(questionnaire, bank, other_bank):
    for rating, when in ((5, sh(YEAR, 3, 31, 23, 30)), (2, sh(YEAR, 4, 1, 0, 30)), (None, sh(YEAR, 4, 1, 1)),
                         (4, sh(YEAR, 4, 1, 7, 59)), (1, sh(YEAR, 4, 1, 8))):
        answer(questionnaire, bank, rating, when)
    answer(questionnaire, other_bank, 5, sh(YEAR, 6, 15, 12))
    # Answers written directly (as a bulk import would) are only counted by a rebuild.
    SurveyResponse.objects.bulk_create([
        SurveyResponse(questionnaire=questionnaire, institution=other_bank, answers={}, mean_rating=Decimal("4.50"),
                       satisfied=True, submitted_at=sh(YEAR, 7, 1, 0, 5)),
        SurveyResponse(questionnaire=questionnaire, institution=other_bank, answers={}, mean_rating=Decimal("2.00"),
                       satisfied=False, submitted_at=sh(YEAR, 7, 1, 0, 5)),
    ])
    incremental = tallies()
    assert incremental != recount()  # the bulk rows are missing until the rebuild

    SatisfactionTally.objects.all().delete()
    assert services.rebuild_satisfaction_tallies() == 4
    expected = {(bank.pk, YEAR, 3): (1, 1), (bank.pk, YEAR, 4): (3, 1), (other_bank.pk, YEAR, 6): (1, 1),
                (other_bank.pk, YEAR, 7): (2, 1)}
    assert tallies() == recount() == expected
    assert {k: v for k, v in tallies().items() if k[2] != 7} == incremental
    # Idempotent.
    assert services.rebuild_satisfaction_tallies() == 4
    assert tallies() == expected


def test_rebuild_of_some_institutions_leaves_the_others_alone(questionnaire, bank, other_bank):
    answer(questionnaire, bank, 5, sh(YEAR, 5, 1))
    answer(questionnaire, other_bank, 5, sh(YEAR, 5, 1))
    SatisfactionTally.objects.update(rated=9, satisfied=9)  # drift in both
    assert services.rebuild_satisfaction_tallies([bank.pk]) == 1
    assert tallies() == {(bank.pk, YEAR, 5): (1, 1), (other_bank.pk, YEAR, 5): (9, 9)}
    assert services.rebuild_satisfaction_tallies([]) == 0
    assert tasks.rebuild_satisfaction_tallies.delay().get() == 2
    assert tallies() == recount()


def test_the_migration_tallies_existing_answers(questionnaire, bank):
    SurveyResponse.objects.bulk_create([
        SurveyResponse(questionnaire=questionnaire, institution=bank, answers={}, mean_rating=Decimal(m),
                       satisfied=m >= 4, submitted_at=when)
        for m, when in ((2, sh(YEAR, 2, 28, 23, 30)), (4, sh(YEAR, 2, 28, 23, 30)), (3, sh(YEAR, 3, 1, 0, 30)),
                        (5, sh(YEAR, 3, 1, 0, 30)))])
    migration = importlib.import_module("complaints.migrations.0005_satisfaction_tally")
    migration.build_tallies(apps, SimpleNamespace(connection=connection))
    assert tallies() == recount() == {(bank.pk, YEAR, 2): (2, 1), (bank.pk, YEAR, 3): (2, 1)}


def test_nightly_rebuild_is_in_beat():
    name = "complaints.rebuild_satisfaction_tallies"
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == name]
    assert len(entries) == 1
    assert tasks.rebuild_satisfaction_tallies.name == name


def rating(institution, scores: dict, when: datetime) -> Complaint:
    case, _ = submit_case(institution, kind="rating", description="", ratings=scores)
    Complaint.objects.filter(pk=case.pk).update(received_at=when)
    rebuild_complaint_tallies([institution.pk])  # moved around the services: recount
    return case


def satisfaction_recount(years: range, *, by_district: bool = False) -> dict[tuple, dict]:
    """What the dashboards must show, by a plain loop over answers and public ratings (Shanghai months)."""
    out: dict[tuple, dict] = {}
    items = [(r.institution, r.submitted_at, r.satisfied) for r in SurveyResponse.objects.select_related("institution")]
    items += [(c.institution, c.received_at, rules.is_satisfied(list(c.ratings.values())))
              for c in Complaint.objects.filter(kind="rating").select_related("institution")]
    for institution, when, satisfied in items:
        local = when.astimezone(SH)
        if satisfied is None or local.year not in years:
            continue
        key = (local.year, local.month, *([institution.district_id] if by_district else []))
        entry = out.setdefault(key, {"rated": 0, "satisfied": 0})
        entry["rated"] += 1
        entry["satisfied"] += 1 if satisfied else 0
    return out


def test_dashboard_satisfaction_reads_the_tallies_by_shanghai_month(questionnaire, bank, other_bank):
    answers = ((bank, 5, sh(YEAR, 3, 31, 23, 30)), (bank, 2, sh(YEAR, 4, 1, 0, 30)),
               (bank, None, sh(YEAR, 4, 1, 0, 40)), (other_bank, 4, sh(YEAR, 1, 1, 0, 10)),
               (other_bank, 1, sh(YEAR - 1, 12, 31, 23, 50)),
               (bank, 5, sh(YEAR - 2, 12, 31, 23)))  # the last one: before the years asked for
    for institution, score, when in answers:
        answer(questionnaire, institution, score, when)
    rating(bank, {"attitude": 5, "efficiency": 5, "integrity": 4}, sh(YEAR, 3, 31, 23, 59))
    rating(bank, {"attitude": 3, "efficiency": 4, "integrity": 4}, sh(YEAR, 4, 1, 0, 1))  # mean 3.67
    rating(other_bank, {"attitude": 4}, sh(YEAR, 12, 31, 23, 59))
    rating(other_bank, {"attitude": 5, "efficiency": 3}, sh(YEAR - 1, 1, 1, 0, 0))  # mean 4.0
    rating(other_bank, {"attitude": 2}, sh(YEAR + 1, 1, 1, 0, 0))  # next year: not counted
    scope = Scope(district_id=bank.district_id)

    # The dashboards read complaints' own counting (satisfaction_by_month), per month or per district.
    def counts_of(scope: Scope, per: str = "") -> dict:
        return {(year, *(key if per else (key,))): {"rated": v["rated"], "satisfied": v["satisfied"]}
                for year in (YEAR - 1, YEAR)
                for key, v in dashboard_data.satisfaction_months(scope, year, per=per).items()}

    counts = counts_of(scope)
    assert counts == satisfaction_recount(range(YEAR - 1, YEAR + 1))
    assert counts[(YEAR, 3)] == {"rated": 2, "satisfied": 2} and counts[(YEAR, 4)] == {"rated": 2, "satisfied": 0}
    city = {(y, m, d): v for (y, d, m), v in counts_of(Scope(city_id=bank.district.parent_id), "district").items()}
    assert city == satisfaction_recount(range(YEAR - 1, YEAR + 1), by_district=True)

    count, rows = dashboard_data.satisfaction_by_institution(scope, YEAR, 4, offset=0, limit=10)
    assert (count, [(r["institution_id"], r["rated"], r["satisfied"]) for r in rows]) == (1, [(bank.pk, 2, 0)])
    count, rows = dashboard_data.satisfaction_by_institution(scope, YEAR, None, offset=0, limit=10)
    assert [(r["institution_id"], r["rated"], r["satisfied"]) for r in rows] == [(bank.pk, 4, 2),
                                                                               (other_bank.pk, 2, 2)]


def test_complaint_figures_count_by_shanghai_month(bank):
    def case(kind, received, *, outcome="", concluded=None):
        made, _ = submit_case(bank, kind=kind, **({"description": "", "ratings": {"attitude": 5}}
                                                  if kind == "rating" else {}))
        Complaint.objects.filter(pk=made.pk).update(
            received_at=received, status="concluded" if outcome else "received", outcome=outcome,
            concluded_at=concluded)
        rebuild_complaint_tallies([bank.pk])

    case("complaint", sh(YEAR, 3, 31, 23, 30), outcome="substantiated", concluded=sh(YEAR, 4, 2, 0, 10))
    case("report", sh(YEAR, 4, 1, 0, 30), outcome="unsubstantiated", concluded=sh(YEAR, 4, 1, 23, 50))
    case("report", sh(YEAR, 5, 1), outcome="partially_substantiated")  # no conclusion time: not "handled"
    case("suggestion", sh(YEAR, 1, 1, 0, 5))
    case("complaint", sh(YEAR - 1, 12, 31, 23, 55))  # last year
    case("complaint", sh(YEAR, 12, 31, 23, 59))
    case("rating", sh(YEAR, 4, 30, 23, 59))

    # The dashboards' month × kind series, and complaints' own statistics for outcomes and handling time.
    stats = complaint_selectors.statistics(YEAR, institution_ids=Scope(district_id=bank.district_id).institutions())
    figures = {"by_month_kind": stats.by_month_kind, "by_outcome": stats.by_outcome}
    expected = {"by_month_kind": {}, "by_outcome": {}, "handled": 0, "handling_days": 0}
    for c in Complaint.objects.exclude(status="merged"):
        local = c.received_at.astimezone(SH)
        if local.year != YEAR:
            continue
        key = (local.month, c.kind)
        expected["by_month_kind"][key] = expected["by_month_kind"].get(key, 0) + 1
        if c.outcome:
            expected["by_outcome"][c.outcome] = expected["by_outcome"].get(c.outcome, 0) + 1
            if c.concluded_at:
                expected["handled"] += 1
                expected["handling_days"] += (c.concluded_at.astimezone(SH).date() - local.date()).days
    assert figures == {k: expected[k] for k in ("by_month_kind", "by_outcome")}
    assert figures["by_month_kind"] == {(3, "complaint"): 1, (4, "report"): 1, (5, "report"): 1,
                                        (1, "suggestion"): 1, (12, "complaint"): 1, (4, "rating"): 1}
    assert (expected["handled"], expected["handling_days"]) == (2, 2)
    assert stats.average_handling_days == Decimal("1.0")


@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_for_the_same_month_are_all_counted(reference_data):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions on one database (PostgreSQL)")
    from tests.factories import InstitutionFactory

    institution = InstitutionFactory(code="LQ-T91")
    questionnaire = services.ensure_questionnaire(YEAR)
    per_thread, barrier, errors = 15, threading.Barrier(2), []

    def respond(rating: int) -> None:
        from django.db import connections

        try:
            barrier.wait(10)
            for n in range(per_thread):
                answer(questionnaire, institution, rating, sh(YEAR, 4, 1, 0, n))
        except Exception as exc:  # reported below: an IntegrityError here is a lost answer
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=respond, args=(r,)) for r in (5, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert SurveyResponse.objects.filter(institution=institution).count() == 2 * per_thread
    assert tallies() == recount() == {(institution.pk, YEAR, 4): (2 * per_thread, per_thread)}
