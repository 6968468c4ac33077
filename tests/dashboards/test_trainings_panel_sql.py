"""The district page's trainings panel chosen and summed in SQL (issue 16: the page built every
institution's completion row, 1 s for a province, to show 20): the same totals and the same
institutions, in the same order, as the full figure (the panel's JSON) sorted as the page sorted it
(lowest rate first, none last, then most employees, then code) and cut.

Institutions of 路桥 (completed / active employees, 8 hours required):

- TA: 5 of 28 (17.857 → 17.9 %) and TB: 7 of 39 (17.949 → 17.9 %): the same rate once rounded, so the
  one with more employees comes first, although its unrounded rate is higher;
- TC: 1 of 2 and TD: 2 of 4 (50.0 %): more employees first;
- TE: 0 of 3, one with 4 hours, and TH: 0 of 1 (0.0 %, first): more employees first;
- TF: 3 of 3 (100.0 %), and an inactive employee with 8 hours who is not counted;
- TG: its one employee, trained, moved to TH: TG has no employee (no rate, last) but keeps the
  stored hours — its completed is capped at 0, as `institution_completion` does; TI: no employee.

Totals: 80 employees, 18 completed (22.5 %).
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from activities import services as activity_services
from dashboards import data, params, views
from institutions.models import Employee
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import build_scheme

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = TODAY.year
ORDER = ["TE", "TH", "TB", "TA", "TD", "TC", "TF", "TG", "TI"]  # by hand, from the table above


def _institution(code: str, employees: int, trained: int, *, category: str = "bank", short: int = 0):
    institution = InstitutionFactory(code=code, name=f"培训{code}", category=category)
    staff = [EmployeeFactory(institution=institution, employee_no=f"{code}{n:02d}", name=f"员工{code}{n}")
             for n in range(employees)]
    filer = institution_user(institution, "institution_filer", username=f"tp_{code.lower()}")
    for hours, people in (("8", staff[:trained]), ("4", staff[trained:trained + short])):
        if people:
            session = activity_services.record_training(filer, institution, activity_services.TrainingInput(
                title=f"廉洁从业培训 {hours} 学时", held_on=TODAY, hours=Decimal(hours)))
            activity_services.set_attendance(filer, session, [e.pk for e in people])
    return SimpleNamespace(institution=institution, staff=staff)


@pytest.fixture
def w(db):
    build_scheme(YEAR)
    made = {
        "TA": _institution("TA", 28, 5), "TB": _institution("TB", 39, 7),
        "TC": _institution("TC", 2, 1, category="insurance"), "TD": _institution("TD", 4, 2),
        "TE": _institution("TE", 3, 0, short=1), "TF": _institution("TF", 4, 4), "TG": _institution("TG", 1, 1),
        "TH": _institution("TH", 0, 0), "TI": _institution("TI", 0, 0, category="insurance"),
    }
    Employee.objects.filter(pk=made["TF"].staff[3].pk).update(is_active=False)  # left, with 8 hours
    moved = made["TG"].staff[0]
    Employee.objects.filter(pk=moved.pk).update(institution=made["TH"].institution)  # TH: 1 employee now
    moved.refresh_from_db()
    assert moved.institution.code == "TH"
    return SimpleNamespace(fc=UserFactory(username="tp_fc", roles=["finance_center"]), **made)


def _page(user, **params_):
    client = Client()
    client.force_login(user)
    response = client.get("/dashboards/district/", {"year": YEAR, **params_})
    assert response.status_code == 200
    return response


def _full(user, **params_) -> dict:
    client = Client()
    client.force_login(user)
    response = client.get("/api/v1/dashboards/district/trainings/", {"year": YEAR, **params_})
    assert response.status_code == 200, response.content
    return response.json()


def _expected(full: dict, limit: int) -> dict:
    """What the page showed before: the full figure sorted by the page's key and cut."""
    def key(r):
        rate = float(r["rate"]) if r["rate"] not in (None, "") else None
        return (rate is None, rate if rate is not None else 0, -r["employees"], r["code"])

    rows = sorted(full["institutions"], key=key)
    return {**full, "institutions": rows[:limit], "institutions_count": len(full["institutions"])}


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 20])
def test_trainings_panel_equals_the_full_figure_sorted_and_cut(w, monkeypatch, limit):
    monkeypatch.setattr(views, "PROGRAMME_ROWS", limit)
    full = _full(w.fc)
    rows = {r["code"]: r for r in full["institutions"]}
    assert (rows["TA"]["rate"], rows["TB"]["rate"]) == ("17.9", "17.9")
    assert (rows["TH"]["employees"], rows["TH"]["completed"], rows["TH"]["rate"]) == (1, 0, "0.0")
    assert (rows["TF"]["employees"], rows["TF"]["completed"], rows["TG"]["completed"]) == (3, 3, 0)
    assert rows["TG"]["rate"] is None and Decimal(rows["TG"]["hours"]) == 8  # its stored hours; no employee
    assert (full["employees"], full["completed"], full["rate"]) == (80, 18, "22.5")
    shown = _page(w.fc).context["trainings"]
    assert shown == _expected(full, limit)
    assert [r["code"] for r in shown["institutions"]] == ORDER[:limit]


def test_trainings_panel_by_category(w):
    full = _full(w.fc, category="insurance")
    assert {r["code"] for r in full["institutions"]} == {"TC", "TI"}
    assert _page(w.fc, category="insurance").context["trainings"] == _expected(full, 20)


def test_trainings_panel_of_a_district_without_institutions(w):
    jiaojiang = UserFactory(username="tp_fc_jj", roles=["finance_center"], roles__districts=["331002"])
    shown = _page(jiaojiang).context["trainings"]
    assert (shown["employees"], shown["completed"], shown["rate"], shown["institutions"],
            shown["institutions_count"]) == (0, 0, None, [], 0)
    assert shown == _expected(_full(jiaojiang), 20)


def test_trainings_panel_queries_do_not_grow_with_the_institutions(w, django_assert_max_num_queries):
    q = params.district_query(w.fc, {"year": str(YEAR)})
    with django_assert_max_num_queries(3):  # the 20 chosen with the totals, their rows (two grouped queries)
        before = data.trainings_panel(q, 20)
    for k in range(25):
        _institution(f"TX{k:02d}", k % 4, k % 3)
    with django_assert_max_num_queries(3):
        after = data.trainings_panel(q, 20)
    assert (before["institutions_count"], after["institutions_count"]) == (9, 34)
    assert len(after["institutions"]) == 20


def test_trainings_panel_builds_rows_for_the_shown_institutions_only(w, monkeypatch):
    from activities import selectors as activity_selectors

    monkeypatch.setattr(views, "PROGRAMME_ROWS", 3)
    built = []
    original = activity_selectors.institution_completion

    def counting(institution_ids, year, **kwargs):
        out = original(institution_ids, year, **kwargs)
        built.append(len(out))
        return out

    monkeypatch.setattr(activity_selectors, "institution_completion", counting)
    shown = _page(w.fc).context["trainings"]
    assert len(shown["institutions"]) == 3 and shown["institutions_count"] == 9
    assert built == [3]  # not the district's 9
