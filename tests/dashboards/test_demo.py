"""The second demo district: 20 institutions scored through the scoring services, idempotent."""

import pytest

from dashboards import data, demo
from institutions.models import District, Institution
from scoring.models import Result, Scheme, SchemeEvent
from tests.scoring.factories import build_scheme

pytestmark = pytest.mark.django_db


def test_seed_second_district_is_idempotent_and_scored(reference_data):
    build_scheme(2025, status=Scheme.Status.PUBLISHED)
    build_scheme(2026)
    line = demo.seed_second_district()
    assert "椒江区 20 家机构" in line and "2025、2026" in line
    institutions = Institution.objects.filter(district__code="331002")
    assert institutions.count() == 20 and all("演示" in i.name for i in institutions)
    for year in (2025, 2026):
        assert Result.objects.filter(year=year, institution__in=institutions).count() == 20
    # 2025 was published: reopened with a logged reason, aggregated, and published again.
    scheme_2025 = Scheme.objects.get(year=2025)
    assert scheme_2025.status == Scheme.Status.PUBLISHED
    assert SchemeEvent.objects.filter(scheme=scheme_2025, action="reopen", reason__contains="椒江区").exists()
    assert set(Result.objects.filter(year=2025).values_list("status", flat=True)) == {"published"}
    colours = set(Result.objects.filter(year=2026, institution__in=institutions).values_list("colour", flat=True))
    assert len(colours) >= 3
    before = (Result.objects.count(), Institution.objects.count(), SchemeEvent.objects.count())
    again = demo.seed_second_district()
    assert "新增演示案件 0 件、问卷答复 0 份" in again
    assert (Result.objects.count(), Institution.objects.count(), SchemeEvent.objects.count()) == before
    league = data.city_league(District.objects.get(code="3310"), 2026)
    assert "331002" in {r["district"]["code"] for r in league["districts"] if r["index"] is not None}


def test_seed_history_without_luqiao_demo_is_a_no_op(reference_data):
    assert "跳过" in demo.seed_history()
