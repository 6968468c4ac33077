"""core.bulk.update_each: each row gets its own values, in one statement on PostgreSQL."""

from datetime import UTC, datetime

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.bulk import update_each
from institutions.models import District
from scoring.models import AggregationRun

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_nothing_else_changes():
    luqiao, jiaojiang = District.objects.get(code="331004"), District.objects.get(code="331002")
    runs = [AggregationRun.objects.create(year=2026, district=d) for d in (luqiao, jiaojiang, luqiao)]
    untouched = AggregationRun.objects.create(year=2026, district=jiaojiang)
    when = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    runs[0].status, runs[0].institutions_total, runs[0].finished_at, runs[0].error = "succeeded", 7, when, "甲"
    runs[1].status, runs[1].institutions_total, runs[1].finished_at, runs[1].error = "failed", 5, None, "乙\t'\""
    runs[2].status, runs[2].institutions_total, runs[2].finished_at, runs[2].district = "running", 0, when, None
    with CaptureQueriesContext(connection) as queries:
        updated = update_each(AggregationRun, runs,
                              ["status", "institutions_total", "finished_at", "error", "district"])
    assert updated == 3
    if connection.vendor == "postgresql":
        assert len(queries) == 1
    stored = {r.pk: (r.status, r.institutions_total, r.finished_at, r.error, r.district_id)
              for r in AggregationRun.objects.all()}
    assert stored[runs[0].pk] == ("succeeded", 7, when, "甲", luqiao.pk)
    assert stored[runs[1].pk] == ("failed", 5, None, "乙\t'\"", jiaojiang.pk)
    assert stored[runs[2].pk] == ("running", 0, when, "", None)
    assert stored[untouched.pk] == ("queued", 0, None, "", jiaojiang.pk)


def test_nothing_to_write_is_no_statement():
    with CaptureQueriesContext(connection) as queries:
        assert update_each(AggregationRun, [], ["status"]) == 0
    assert len(queries) == 0


def test_a_value_too_long_for_its_column_is_refused_not_cut():
    district = District.objects.get(code="331004")
    name = district.name
    district.name = "路" * 51  # the column holds 50
    if connection.vendor == "postgresql":
        with pytest.raises(DataError), transaction.atomic():
            update_each(District, [district], ["name"])
        assert District.objects.get(pk=district.pk).name == name
