"""A year's aggregation spread over the workers (issue 16): whole districts in batches (one task per
district at SCORING_SPREAD_TASK_INSTITUTIONS=1), each acknowledged late, a closing step; equal to a
sequential run; re-aggregation recomputes only changed districts."""

from datetime import UTC
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from institutions.models import District
from scoring import services, tasks
from scoring.models import AggregationRun, DistrictYear, Result, SheetEntry, item_points_of
from tests.factories import InstitutionFactory
from tests.scoring.factories import WORKED_SHEETS, assessment_for, build_scheme, fill_sheet

YEAR = 2026


def _results():
    return sorted(Result.objects.values_list("institution__code", "district__code", "total", "rank", "colour"))


@pytest.fixture
def two_districts(db):
    scheme = build_scheme(YEAR)
    luqiao, jiaojiang = District.objects.get(code="331004"), District.objects.get(code="331002")
    for district, prefix in ((luqiao, "LQ"), (jiaojiang, "JJ")):
        for i in range(3):
            assessment = assessment_for(InstitutionFactory(code=f"{prefix}{i}", district=district), scheme)
            for source, values in WORKED_SHEETS.items():
                values = {k: (v - i if isinstance(v, Decimal) and v > i else v) for k, v in values.items()}
                fill_sheet(assessment, source, values)
    return luqiao, jiaojiang


def test_one_task_per_district_and_a_closing_step(two_districts, django_capture_on_commit_callbacks, settings):
    settings.SCORING_SPREAD_TASK_INSTITUTIONS = 1
    luqiao, jiaojiang = two_districts
    for district in two_districts:
        services.district_year(district, YEAR)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        runs = services.start_year_aggregation(YEAR)
    assert sorted(r.district_id for r in runs) == sorted([luqiao.pk, jiaojiang.pk])
    # One publish per district, then the closing step, after the commit.
    published = [cb.args[0].name for cb in callbacks if getattr(cb, "args", None)]
    assert published.count("scoring.aggregate_districts") == 2 and published[-1] == "scoring.finish_year_aggregation"
    assert set(AggregationRun.objects.values_list("status", flat=True)) == {AggregationRun.Status.SUCCEEDED}
    spread = _results()
    assert len(spread) == 6
    # A sequential run over the same data writes nothing new: the spread run equals it.
    for district in two_districts:
        summary = services.aggregate_year(YEAR, district)
        assert summary.changed == 0
    assert _results() == spread
    assert services.year_aggregation_outcome([r.pk for r in runs])[AggregationRun.Status.SUCCEEDED] == 2


def test_closing_step_waits_for_every_district(two_districts):
    luqiao, _ = two_districts
    run = AggregationRun.objects.create(year=YEAR, district=luqiao, status=AggregationRun.Status.RUNNING)
    from celery.exceptions import Retry

    with pytest.raises(Retry):
        tasks.finish_year_aggregation_task.apply(args=(YEAR, [run.pk]), throw=True)
    run.status = AggregationRun.Status.SUCCEEDED
    run.save()
    outcome = tasks.finish_year_aggregation_task.apply(args=(YEAR, [run.pk])).get()
    assert outcome[AggregationRun.Status.SUCCEEDED] == 1


def test_re_aggregation_only_recomputes_changed_districts(two_districts, django_capture_on_commit_callbacks):
    luqiao, jiaojiang = two_districts
    for district in two_districts:
        services.district_year(district, YEAR)
    assert services.districts_to_aggregate(YEAR, only_changed=True) == [jiaojiang.pk, luqiao.pk]  # never run
    with django_capture_on_commit_callbacks(execute=True):
        services.start_year_aggregation(YEAR)
    assert services.districts_to_aggregate(YEAR, only_changed=True) == []
    # One entry of one institution in 路桥 changes: only 路桥 is redone.
    entry = SheetEntry.objects.filter(sheet__assessment__institution__code="LQ1", points__isnull=False).first()
    entry.points = Decimal("1")
    entry.save()
    assert services.districts_to_aggregate(YEAR, only_changed=True) == [luqiao.pk]
    before = AggregationRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        runs = services.start_year_aggregation(YEAR, only_changed=True)
    assert [r.district_id for r in runs] == [luqiao.pk] and AggregationRun.objects.count() == before + 1
    assert services.districts_to_aggregate(YEAR, only_changed=True) == []
    assert services.districts_to_aggregate(YEAR) == [jiaojiang.pk, luqiao.pk]  # by code: 331002, 331004


def test_changed_districts_found_in_a_constant_number_of_queries(two_districts, django_assert_max_num_queries):
    luqiao, jiaojiang = two_districts
    for district in two_districts:
        services.aggregate_year(YEAR, district)
    # A sheet changing (not only an entry) also marks its district.
    sheet = SheetEntry.objects.filter(sheet__assessment__institution__code="JJ2").first().sheet
    sheet.save()
    with django_assert_max_num_queries(5):  # the district-years, one per table, the complaints; any districts
        assert services.districts_to_aggregate(YEAR, only_changed=True) == [jiaojiang.pk]
    with django_assert_max_num_queries(1):
        assert services.districts_to_aggregate(YEAR) == [jiaojiang.pk, luqiao.pk]


def test_small_districts_go_in_batches_equal_to_one_by_one(two_districts, django_capture_on_commit_callbacks,
                                                           settings, django_assert_max_num_queries):
    luqiao, jiaojiang = two_districts
    for district in two_districts:
        services.district_year(district, YEAR)
    settings.SCORING_SPREAD_TASK_INSTITUTIONS = 1
    with django_capture_on_commit_callbacks(execute=True):
        services.start_year_aggregation(YEAR)
    one_by_one = _results()
    items = _items()
    assert len(items) == 12  # six results, two items each (the per-item summary is in the results' rows)
    Result.objects.all().delete()

    settings.SCORING_SPREAD_TASK_INSTITUTIONS = 6  # both districts (3 institutions each) in one task
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        runs = services.start_year_aggregation(YEAR)
    published = [cb.args[0].name for cb in callbacks if getattr(cb, "args", None)]
    assert published.count("scoring.aggregate_districts") == 1
    assert len(runs) == 2 and {r.district_id for r in runs} == {luqiao.pk, jiaojiang.pk}
    for run in AggregationRun.objects.filter(pk__in=[r.pk for r in runs]):
        assert run.status == AggregationRun.Status.SUCCEEDED and run.institutions_total == 3
        assert run.results_written == 3  # counted per district
    assert _results() == one_by_one  # ranked within each district, as one by one
    assert _items() == items
    # The batch's statements do not grow with its districts.
    Result.objects.update(total=0)
    with django_assert_max_num_queries(40):
        summaries = services.aggregate_districts(YEAR, [luqiao.pk, jiaojiang.pk])
    assert {d: s.changed for d, s in summaries.items()} == {luqiao.pk: 3, jiaojiang.pk: 3}
    assert _results() == one_by_one


def test_a_published_district_fails_alone_in_its_batch(two_districts, settings):
    luqiao, jiaojiang = two_districts
    dy = services.district_year(luqiao, YEAR)
    services.district_year(jiaojiang, YEAR)
    runs = [AggregationRun.objects.create(year=YEAR, district=d) for d in two_districts]
    type(dy).objects.filter(pk=dy.pk).update(status="published")
    services.execute_runs([r.pk for r in runs])
    outcome = {r.district_id: (r.status, r.error) for r in AggregationRun.objects.filter(pk__in=[r.pk for r in runs])}
    assert outcome[jiaojiang.pk] == (AggregationRun.Status.SUCCEEDED, "")
    assert outcome[luqiao.pk][0] == AggregationRun.Status.FAILED and "已发布" in outcome[luqiao.pk][1]
    assert not Result.objects.filter(district=luqiao).exists()
    assert Result.objects.filter(district=jiaojiang).count() == 3


def _items():
    """(institution, item, points, district) of every stored per-item summary (`Result.item_cents`)."""
    return sorted((code, number, points, district)
                  for code, district, cents in Result.objects.values_list("institution__code", "district__code",
                                                                          "item_cents")
                  for number, points in item_points_of(cents).items())


def _published_tasks(callbacks):
    return [(cb.args[0].name, cb.args[1]) for cb in callbacks if getattr(cb, "args", None)]


def test_re_aggregation_recomputes_only_changed_institutions_and_equals_a_whole_run(
        two_districts, django_capture_on_commit_callbacks):
    """Issue 16: after a change to one institution of a district, only that institution is recomputed;
    the district's other results are re-ranked with it, and everything equals a whole run."""
    from django.db.models import F
    from django.utils import timezone

    luqiao, _jiaojiang = two_districts
    for district in two_districts:
        services.district_year(district, YEAR)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_year_aggregation(YEAR)
    ranks_before = dict(Result.objects.values_list("institution__code", "rank"))
    assert ranks_before["LQ2"] == 3
    # LQ2 (last of 路桥) gains two points on every basic entry: it passes LQ1.
    lq2 = Result.objects.get(institution__code="LQ2").institution_id
    SheetEntry.objects.filter(sheet__assessment__institution_id=lq2, points__isnull=False,
                              indicator__kind="basic").update(points=F("points") + 2, updated_at=timezone.now())
    changes = services.changes_since_aggregation(YEAR)
    assert changes.whole == [] and changes.institutions == {luqiao.pk: {lq2}}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        runs = services.start_year_aggregation(YEAR, only_changed=True)
    assert [r.district_id for r in runs] == [luqiao.pk]
    batches = [args for name, args in _published_tasks(callbacks) if name == "scoring.aggregate_districts"]
    assert batches == [([runs[0].pk], [lq2])]  # the batch names the one institution recomputed
    run = AggregationRun.objects.get(pk=runs[0].pk)
    assert run.status == AggregationRun.Status.SUCCEEDED and run.institutions_total == 3
    assert run.results_written == 2  # LQ2's result and LQ1's rank
    incremental, items = _results(), _items()
    ranks = dict(Result.objects.values_list("institution__code", "rank"))
    assert (ranks["LQ0"], ranks["LQ1"], ranks["LQ2"]) == (1, 3, 2)
    # A whole run over the same data changes nothing: the incremental run equals it.
    for district in two_districts:
        assert services.aggregate_year(YEAR, district).changed == 0
    assert _results() == incremental and _items() == items
    assert services.districts_to_aggregate(YEAR, only_changed=True) == []


def test_incremental_run_removes_a_result_whose_sheets_were_withdrawn(two_districts):
    luqiao, jiaojiang = two_districts
    for district in two_districts:
        services.aggregate_year(YEAR, district)
    whole = _results()
    lq0 = Result.objects.get(institution__code="LQ0").institution_id
    # LQ0 (first of 路桥) no longer has any submitted sheet: its result goes, the others move up.
    from scoring.models import ScoreSheet

    for sheet in ScoreSheet.objects.filter(assessment__institution_id=lq0):
        sheet.status = "draft"
        sheet.save()
    services.aggregate_districts(YEAR, [luqiao.pk], institutions=[lq0])
    assert not Result.objects.filter(institution_id=lq0).exists()
    # Nor its per-item summary (in the row that went); the others keep theirs, one key per item.
    assert sorted(code for code, _n, _p, _d in _items()) == sorted(["LQ1", "LQ2", "JJ0", "JJ1", "JJ2"] * 2)
    assert dict(Result.objects.filter(district=luqiao).values_list("institution__code", "rank")) == {"LQ1": 1,
                                                                                                    "LQ2": 2}
    assert [r for r in _results() if r[1] == jiaojiang.code] == [r for r in whole if r[1] == jiaojiang.code]
    assert services.aggregate_year(YEAR, luqiao).changed == 0  # equal to a whole run


def test_a_district_mostly_changed_is_redone_whole(two_districts, django_capture_on_commit_callbacks):
    from django.utils import timezone

    luqiao, _ = two_districts
    for district in two_districts:
        services.aggregate_year(YEAR, district)
    SheetEntry.objects.filter(sheet__assessment__institution__code__in=["LQ0", "LQ1"]).update(
        updated_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        runs = services.start_year_aggregation(YEAR, only_changed=True)
    assert [r.district_id for r in runs] == [luqiao.pk]
    batches = [args for name, args in _published_tasks(callbacks) if name == "scoring.aggregate_districts"]
    assert batches == [([runs[0].pk], None)]  # two of three changed: the whole district


def test_incremental_run_statements_do_not_grow_with_the_district(two_districts, django_assert_max_num_queries):
    luqiao, jiaojiang = two_districts
    for district in two_districts:
        services.aggregate_year(YEAR, district)
    lq1 = Result.objects.get(institution__code="LQ1").institution_id
    jj1 = Result.objects.get(institution__code="JJ1").institution_id
    with django_assert_max_num_queries(40):
        summaries = services.aggregate_districts(YEAR, [luqiao.pk, jiaojiang.pk], institutions=[lq1, jj1])
    assert {d: (s.institutions, s.changed) for d, s in summaries.items()} == {luqiao.pk: (3, 0),
                                                                               jiaojiang.pk: (3, 0)}
    assert sum(summaries[luqiao.pk].colours.values()) == 3


@pytest.mark.django_db(transaction=True)  # the command's tasks are published when its transaction commits
def test_the_command_re_aggregates_only_the_changes(two_districts, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.utils import timezone

    luqiao, _ = two_districts
    call_command("aggregate_scores", "--year", str(YEAR))
    capsys.readouterr()
    call_command("aggregate_scores", "--year", str(YEAR), "--changed")
    assert "没有变化" in capsys.readouterr().out
    SheetEntry.objects.filter(sheet__assessment__institution__code="LQ1").update(updated_at=timezone.now())
    before = AggregationRun.objects.count()
    call_command("aggregate_scores", "--year", str(YEAR), "--changed")
    out = capsys.readouterr().out
    assert "路桥区 2026 年度汇总完成：3 家机构有结果" in out and "椒江区" not in out
    assert AggregationRun.objects.count() == before + 1
    with pytest.raises(CommandError):  # one or the other
        call_command("aggregate_scores", "--year", str(YEAR), "--changed", "--district", luqiao.code)


def test_a_complaint_concluded_since_the_last_run_marks_its_institution_changed(
        two_districts, django_capture_on_commit_callbacks, settings, tmp_path):
    """The deduction is an input too: a substantiated conclusion against LQ1 after the last run makes
    the re-aggregation of changes recompute LQ1 (and only LQ1), equal to a whole run; an
    unsubstantiated one changes nothing and marks nothing."""
    from tests.complaints.helpers import act, submit_case
    from tests.factories import UserFactory

    settings.COMPLAINTS_EVIDENCE_ROOT = tmp_path / "evidence"
    luqiao, _jiaojiang = two_districts
    for district in two_districts:
        services.district_year(district, YEAR)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_year_aggregation(YEAR)
    fc = UserFactory(username="fc_spread", roles=["finance_center"], is_staff=True)  # 路桥
    lq1 = Result.objects.get(institution__code="LQ1")
    dismissed, upheld = (submit_case(lq1.institution, description=text)[0] for text in ("反映甲", "反映乙"))
    for case, outcome in ((dismissed, "unsubstantiated"), (upheld, "substantiated")):
        act(case, "accept", fc)
        act(case, "verify", fc)
        if outcome == "unsubstantiated":
            act(case, "conclude", fc, outcome=outcome)
    assert services.changes_since_aggregation(YEAR).institutions == {}
    # A case received last year and concluded now counts in last year's points, not this year's.
    from datetime import datetime

    from complaints.models import Complaint

    last_year = submit_case(lq1.institution, description="去年的反映")[0]
    Complaint.objects.filter(pk=last_year.pk).update(received_at=datetime(YEAR - 1, 12, 20, tzinfo=UTC))
    for action in ("accept", "verify"):
        act(last_year, action, fc)
    act(last_year, "conclude", fc, outcome="partially_substantiated")
    assert services.changes_since_aggregation(YEAR).institutions == {}
    act(upheld, "conclude", fc, outcome="substantiated")
    changes = services.changes_since_aggregation(YEAR)
    assert changes.whole == [] and changes.institutions == {luqiao.pk: {lq1.institution_id}}
    with django_capture_on_commit_callbacks(execute=True):
        runs = services.start_year_aggregation(YEAR, only_changed=True)
    assert [r.district_id for r in runs] == [luqiao.pk]
    lq1.refresh_from_db()
    assert lq1.complaints_substantiated == 1 and lq1.deduction > 0
    incremental = _results()
    for district in two_districts:
        assert services.aggregate_year(YEAR, district).changed == 0  # equal to a whole run
    assert _results() == incremental
    assert services.districts_to_aggregate(YEAR, only_changed=True) == []


def test_each_run_of_a_batch_records_its_own_figures_in_statements_that_do_not_grow(
        two_districts, django_assert_max_num_queries):
    """The batch's runs are marked running and then finished each with its own counts (one statement
    each way, however many runs): a district with an institution more says so."""
    luqiao, jiaojiang = two_districts
    scheme = services.district_year(luqiao, YEAR).scheme
    services.district_year(jiaojiang, YEAR)
    extra = assessment_for(InstitutionFactory(code="LQ9", district=luqiao), scheme)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(extra, source, values)
    alone = AggregationRun.objects.create(year=YEAR, district=jiaojiang)
    with CaptureQueriesContext(connection) as one:
        services.execute_runs([alone.pk])
    # Both batches first runs: the same way of writing, no district aggregated before.
    Result.objects.all().delete()
    DistrictYear.objects.update(aggregated_at=None)
    runs = [AggregationRun.objects.create(year=YEAR, district=d) for d in two_districts]
    with CaptureQueriesContext(connection) as two, django_assert_max_num_queries(45):
        services.execute_runs([r.pk for r in runs])
    if connection.vendor == "postgresql":  # SQLite's portable path writes district by district
        assert len(two) == len(one)  # a run more, no statement more
    figures = {r.district_id: (r.status, r.progress, r.institutions_total, r.results_written, r.results_changed,
                               r.started_at is not None, r.finished_at is not None)
               for r in AggregationRun.objects.filter(pk__in=[r.pk for r in runs])}
    assert figures == {luqiao.pk: (AggregationRun.Status.SUCCEEDED, 100, 4, 4, 4, True, True),
                       jiaojiang.pk: (AggregationRun.Status.SUCCEEDED, 100, 3, 3, 3, True, True)}


def test_the_garbage_collector_is_paused_during_a_batch_and_resumed_after_even_a_failure(two_districts, monkeypatch):
    import gc

    for district in two_districts:
        services.district_year(district, YEAR)
    seen = []
    compute = services.compute_year

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return compute(*args, **kwargs)

    monkeypatch.setattr(services, "compute_year", spy)
    assert gc.isenabled()
    services.aggregate_districts(YEAR, [d.pk for d in two_districts])
    assert seen == [False] and gc.isenabled()
    assert Result.objects.count() == 6

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "compute_year", broken)
    with pytest.raises(RuntimeError):
        services.aggregate_districts(YEAR, [d.pk for d in two_districts])
    assert gc.isenabled()


def test_first_run_of_a_district_takes_in_an_institution_whose_result_is_stored_under_its_former_district(
        two_districts):
    """A district's first run copies its results straight into the table; an institution moved in from
    an aggregated district still has its result there, and the batch is written by the upsert instead
    (the result moves with the institution, nothing else changes)."""
    luqiao, jiaojiang = two_districts
    services.district_year(luqiao, YEAR)
    services.district_year(jiaojiang, YEAR)
    services.aggregate_districts(YEAR, [luqiao.pk])
    assert Result.objects.filter(district=luqiao).count() == 3 and not Result.objects.filter(district=jiaojiang)
    moved = Result.objects.get(institution__code="LQ0")
    type(moved.institution).objects.filter(pk=moved.institution_id).update(district=jiaojiang)

    summaries = services.aggregate_districts(YEAR, [jiaojiang.pk])
    assert summaries[jiaojiang.pk].written == 4
    assert sorted(Result.objects.filter(district=jiaojiang).values_list("institution__code", flat=True)) == [
        "JJ0", "JJ1", "JJ2", "LQ0"]
    assert Result.objects.get(institution__code="LQ0").pk == moved.pk  # the same row, now under 椒江
    summaries = services.aggregate_districts(YEAR, [luqiao.pk])
    assert summaries[luqiao.pk].institutions == 2 and summaries[luqiao.pk].removed == 0
    # A whole run over both rewrites nothing: what the two first runs wrote is what a run writes.
    again = services.aggregate_districts(YEAR, [luqiao.pk, jiaojiang.pk])
    assert {d: s.changed for d, s in again.items()} == {luqiao.pk: 0, jiaojiang.pk: 0}


@pytest.mark.parametrize("group", [1, 2, 300])
def test_a_batch_written_group_by_group_alongside_the_rules_equals_one_by_one(two_districts, monkeypatch, group):
    """On PostgreSQL a first run writes each group of districts done while the next ones' rules run
    (`_COPY_GROUP` results at a time, whole districts); whatever the groups, the results are those of
    one district at a time."""
    luqiao, jiaojiang = two_districts
    for district in two_districts:
        services.district_year(district, YEAR)
    services.aggregate_districts(YEAR, [luqiao.pk])
    services.aggregate_districts(YEAR, [jiaojiang.pk])
    one_by_one, items = _results(), _items()
    Result.objects.all().delete()

    monkeypatch.setattr(services, "_COPY_GROUP", group)
    summaries = services.aggregate_districts(YEAR, [luqiao.pk, jiaojiang.pk])
    assert {d: (s.written, s.removed) for d, s in summaries.items()} == {luqiao.pk: (3, 0), jiaojiang.pk: (3, 0)}
    assert _results() == one_by_one and _items() == items
    again = services.aggregate_districts(YEAR, [luqiao.pk, jiaojiang.pk])
    assert {d: s.changed for d, s in again.items()} == {luqiao.pk: 0, jiaojiang.pk: 0}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's constraint modes")
def test_a_first_runs_foreign_keys_are_checked_as_each_copy_ends_then_deferred_again(two_districts):
    """A first run checks its rows' foreign keys as each COPY ends (nothing left for the commit): a
    dangling key fails the run there and then (not taken for a moved institution), and nothing is
    written. After a run the keys are Django's deferred checks again for the rest of the transaction."""
    luqiao, _jiaojiang = two_districts
    services.district_year(luqiao, YEAR)
    gone = AggregationRun(pk=2**40, year=YEAR, district=luqiao)  # never saved
    with pytest.raises(IntegrityError), transaction.atomic():
        services.aggregate_districts(YEAR, [luqiao.pk], {luqiao.pk: gone})
    assert not Result.objects.filter(year=YEAR).exists()

    services.aggregate_districts(YEAR, [luqiao.pk])
    row = Result.objects.filter(district=luqiao).first()
    with connection.cursor() as cursor:  # a dangling key for a moment: refused only at the commit
        cursor.execute("UPDATE scoring_result SET run_id = %s WHERE id = %s", [2**40, row.pk])
        cursor.execute("UPDATE scoring_result SET run_id = NULL WHERE id = %s", [row.pk])


def test_a_moved_institution_met_in_a_later_group_rolls_the_first_groups_back_into_the_upsert(
        two_districts, monkeypatch):
    """The batch's first group is copied straight into the table; the second meets the result of an
    institution moved in from a third district: everything is written by the upsert instead, nothing
    twice, the moved result keeps its row."""
    first, later = sorted(two_districts, key=lambda d: d.pk)  # the groups go in the order of district ids
    huangyan = District.objects.get(code="331003")
    scheme_year = services.district_year(huangyan, YEAR)
    incoming = InstitutionFactory(code="HY0", district=huangyan)
    assessment = assessment_for(incoming, scheme_year.scheme)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(assessment, source, values)
    services.aggregate_districts(YEAR, [huangyan.pk])
    stored = Result.objects.get(institution=incoming)
    type(incoming).objects.filter(pk=incoming.pk).update(district=later)

    monkeypatch.setattr(services, "_COPY_GROUP", 1)
    groups = []
    real = services._ResultCopy.copy

    def copy(self, cursor, text, results):
        groups.append(sorted({r.district_id for r in results}))
        return real(self, cursor, text, results)

    monkeypatch.setattr(services._ResultCopy, "copy", copy)
    summaries = services.aggregate_districts(YEAR, [first.pk, later.pk])
    if connection.vendor == "postgresql":
        assert groups == [[first.pk], [later.pk]]
    assert {d: (s.written, s.removed) for d, s in summaries.items()} == {first.pk: (3, 0), later.pk: (4, 0)}
    prefix = {"331004": "LQ", "331002": "JJ"}
    expected = sorted([(f"{prefix[d.code]}{i}", d.code) for d in (first, later) for i in range(3)]
                      + [("HY0", later.code)])
    assert sorted(Result.objects.filter(year=YEAR).values_list("institution__code", "district__code")) == expected
    assert Result.objects.get(institution=incoming).pk == stored.pk


def test_progress_is_written_only_for_a_batch_that_takes_a_while(two_districts, monkeypatch):
    """Most batches take a quarter of a second: their runs show running, then succeeded, without
    progress written to the cache on the way; a batch that runs longer than `_PROGRESS_AFTER` shows it."""
    luqiao, jiaojiang = two_districts
    runs = {d.pk: AggregationRun.objects.create(year=YEAR, district=d) for d in two_districts}
    writes = []
    real = services.cache.set_many
    monkeypatch.setattr(services.cache, "set_many", lambda values, *a, **k: (writes.append(values),
                                                                              real(values, *a, **k)))
    services.aggregate_districts(YEAR, [luqiao.pk, jiaojiang.pk], runs)
    assert writes == []
    monkeypatch.setattr(services, "_PROGRESS_AFTER", 0)
    services.aggregate_districts(YEAR, [luqiao.pk, jiaojiang.pk], runs)
    assert [sorted(set(w.values())) for w in writes] == [[10], [40], [60], [80], [100]]
    assert set(writes[-1]) == {services._progress_key(run.pk) for run in runs.values()}
    assert services.run_progress(runs[luqiao.pk]) == 100
