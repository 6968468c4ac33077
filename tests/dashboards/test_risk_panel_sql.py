"""The district page's risk panel chosen and summed in SQL (issue 16: the page built and sorted every
institution's row of risk's summary, 2–3 s for a province, to show 20): the same totals and the same
institutions, in the same order, as the full figure (the panel's JSON) sorted and cut."""

import pytest

from dashboards import views
from tests.factories import InstitutionFactory

from .test_programme_panels import YEAR, _page, get, w  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def _expected(full: dict, limit: int) -> dict:
    rows = sorted(full["institutions"], key=lambda r: (-r["overdue"], -r["total"], r["code"]))
    return {**full, "institutions": rows[:limit], "institutions_count": len(full["institutions"])}


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 20])
def test_risk_panel_equals_the_full_figure_sorted_and_cut(w, monkeypatch, limit):  # noqa: F811
    monkeypatch.setattr(views, "PROGRAMME_ROWS", limit)
    for code in ("PA00", "PZ99"):  # no alert: after the flagged ones, by code
        InstitutionFactory(code=code, district=w.luqiao)
    full = get(w.fc, "/api/v1/dashboards/district/risk/").json()
    assert len(full["institutions"]) == 4 and full["total"] > 0  # flagged and unflagged institutions
    shown = _page(w.fc, "/dashboards/district/").context["risk"]
    assert shown == _expected(full, limit)


def test_risk_panel_by_category(w):  # noqa: F811
    full = get(w.fc, "/api/v1/dashboards/district/risk/", category="bank").json()
    assert _page(w.fc, "/dashboards/district/", category="bank").context["risk"] == _expected(full, 20)


def test_risk_panel_builds_rows_for_the_shown_institutions_only(w, monkeypatch):  # noqa: F811
    from risk import selectors as risk_selectors

    for k in range(12):
        InstitutionFactory(code=f"PQ{k:02d}", district=w.luqiao)
    monkeypatch.setattr(views, "PROGRAMME_ROWS", 3)
    built = []
    original = risk_selectors.summary

    def counting(district, year, institutions=None):
        rows = original(district, year, institutions)
        built.append(len(rows))
        return rows

    monkeypatch.setattr(risk_selectors, "summary", counting)
    shown = _page(w.fc, "/dashboards/district/").context["risk"]
    assert len(shown["institutions"]) == 3 and shown["institutions_count"] == 14
    assert built == [3]  # not the district's 14
