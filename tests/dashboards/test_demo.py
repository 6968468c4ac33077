"""The second demo district: 20 institutions scored through the scoring services, per district, idempotent."""

import pytest

from dashboards import data, demo
from institutions.models import District, Institution
from scoring.models import DistrictYear, Result, Scheme, SchemeEvent, item_points_of
from tests.scoring.factories import build_scheme

pytestmark = pytest.mark.django_db


def item_summaries() -> list:
    """Every stored per-item summary and when its result was written."""
    return sorted(Result.objects.values_list("institution_id", "year", "item_cents", "computed_at"))


def test_seed_second_district_is_idempotent_and_scored(reference_data):
    build_scheme(2025, status="published")  # 路桥区's 2025 is published; 椒江区's is its own to run
    build_scheme(2026)
    line = demo.seed_second_district()
    assert "椒江区 20 家机构" in line and "2025、2026" in line
    jiaojiang = District.objects.get(code="331002")
    institutions = Institution.objects.filter(district=jiaojiang)
    assert institutions.count() == 20 and all("演示" in i.name for i in institutions)
    for year in (2025, 2026):
        assert Result.objects.filter(year=year, district=jiaojiang).count() == 20
        # The per-item summary is written by the same aggregation, in the same rows: every result has
        # one key per item of the scheme.
        summaries = Result.objects.filter(year=year, district=jiaojiang).values_list("institution_id", "item_cents")
        assert {i for i, _cents in summaries} == set(institutions.values_list("pk", flat=True))
        assert {tuple(item_points_of(cents)) for _i, cents in summaries} == {(1, 2)}
    # 2025: aggregated, put on notice and published by 椒江区's own finance center; 路桥区 untouched.
    assert DistrictYear.objects.get(district=jiaojiang, year=2025).status == "published"
    assert set(Result.objects.filter(year=2025, district=jiaojiang).values_list("status", flat=True)) == {
        "published"}
    assert DistrictYear.objects.get(district__code="331004", year=2025).status == "published"
    # 2026 on a scheme of its own, still open.
    year_2026 = DistrictYear.objects.get(district=jiaojiang, year=2026)
    assert year_2026.status == "open" and year_2026.scheme.district_id == jiaojiang.pk
    colours = set(Result.objects.filter(year=2026, district=jiaojiang).values_list("colour", flat=True))
    assert len(colours) >= 3
    before = (Result.objects.count(), item_summaries(), Institution.objects.count(),
              SchemeEvent.objects.count(), Scheme.objects.count())
    again = demo.seed_second_district()
    assert "新增演示案件 0 件、问卷答复 0 份" in again
    assert (Result.objects.count(), item_summaries(), Institution.objects.count(),
            SchemeEvent.objects.count(), Scheme.objects.count()) == before
    # The city sees 椒江区's published 2025, not its open 2026.
    city = District.objects.get(code="3310")
    published = {r["district"]["code"] for r in data.city_league(data.CityQuery(city, 2025))["districts"]
                 if r["index"] is not None}
    assert "331002" in published
    assert all(r["index"] is None for r in data.city_league(data.CityQuery(city, 2026))["districts"])


def test_seed_history_without_luqiao_demo_is_a_no_op(reference_data):
    assert "跳过" in demo.seed_history()
