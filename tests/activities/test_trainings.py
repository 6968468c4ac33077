"""Training sessions, attendance (ticked or imported), the stored hours and the completion rule."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from activities import selectors, services
from activities.models import Attendance, TrainingHours, TrainingSession

from .conftest import YEAR, client_for

pytestmark = pytest.mark.django_db


def _session(w, hours="4", title="廉洁从业培训", on=None, inst=None, user=None):
    return services.record_training(user or w.filer, inst or w.a, services.TrainingInput(
        title=title, held_on=on or dt.date(YEAR, 3, 1), hours=Decimal(hours)))


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_completion_rule_default_eight_hours(w):
    first, second = _session(w, "4"), _session(w, "3.5", title="警示教育")
    services.set_attendance(w.filer, first, [w.emps[0].pk, w.emps[1].pk])
    services.set_attendance(w.filer, second, [w.emps[0].pk])
    assert selectors.employee_completion(w.emps[0].pk, YEAR).hours == Decimal("7.5")
    assert not selectors.employee_completion(w.emps[0].pk, YEAR).completed
    third = _session(w, "0.5", title="补学")
    services.set_attendance(w.filer, third, [w.emps[0].pk])
    done = selectors.employee_completion(w.emps[0].pk, YEAR)
    assert done.hours == Decimal("8.0") and done.completed and done.sessions == 3
    figures = selectors.institution_completion([w.a.pk, w.b.pk], YEAR)
    assert (figures[w.a.pk].employees, figures[w.a.pk].completed, figures[w.a.pk].rate) == (3, 1, Decimal("33.3"))
    assert figures[w.b.pk].rate is None or figures[w.b.pk].rate == Decimal("0.0")
    # Unticking recomputes the stored figures.
    services.set_attendance(w.filer, third, [])
    assert not selectors.employee_completion(w.emps[0].pk, YEAR).completed
    # Another year's hours do not count.
    assert selectors.employee_completion(w.emps[0].pk, YEAR + 1).hours == 0


def test_completion_rule_follows_the_setting(w, settings):
    settings.ACTIVITIES_TRAINING_HOURS_REQUIRED = 4
    session = _session(w, "4")
    services.set_attendance(w.filer, session, [w.emps[2].pk])
    assert selectors.employee_completion(w.emps[2].pk, YEAR).completed


def test_ticking_on_the_page_and_refusals(w):
    session = _session(w)
    r = client_for(w.filer).post(f"/activities/trainings/{session.pk}/", {"employees": [w.emps[0].pk]})
    assert r.status_code == 302
    assert list(session.attendance.values_list("employee_id", flat=True)) == [w.emps[0].pk]
    # Another institution's employee: refused, unchanged.
    r = client_for(w.filer).post(f"/activities/trainings/{session.pk}/", {"employees": [w.emp_b.pk]})
    assert r.status_code == 302 and session.attendance.count() == 1
    assert TrainingHours.objects.get(employee=w.emps[0]).hours == Decimal("4.0")
    # B's filer does not see A's session; the finance center sees it but cannot tick.
    assert client_for(w.filer_b).post(f"/activities/trainings/{session.pk}/",
                                      {"employees": [w.emps[1].pk]}).status_code == 404
    assert client_for(w.fc).post(f"/activities/trainings/{session.pk}/",
                                 {"employees": [w.emps[1].pk]}).status_code == 403
    assert client_for(w.fc_c).get(f"/activities/trainings/{session.pk}/").status_code == 404
    assert session.attendance.count() == 1


def test_import_attendance_all_or_nothing(w):
    session = _session(w, "2")
    client = client_for(w.filer)
    bad = _xlsx([["工号", "姓名", "学时"], ["A1", "甲员工1", "2"], ["B1", "乙员工1", ""], ["A2", "错名", ""],
                 ["A3", "甲员工3", "5"]])
    r = client.post(f"/activities/trainings/{session.pk}/import/",
                    {"file": SimpleUploadedFile("签到.xlsx", bad)}, follow=True)
    text = r.content.decode()
    assert "第 3 行" in text and "第 4 行" in text and "第 5 行" in text
    assert not Attendance.objects.exists()
    good = _xlsx([["工号", "姓名", "学时"], ["A1", "甲员工1", ""], ["A2", "甲员工2", "1.5"]])
    r = client.post(f"/activities/trainings/{session.pk}/import/", {"file": SimpleUploadedFile("签到.xlsx", good)})
    assert r.status_code == 302
    assert dict(Attendance.objects.values_list("employee__employee_no", "hours")) == {
        "A1": Decimal("2.0"), "A2": Decimal("1.5")}
    not_a_table = client.post(f"/activities/trainings/{session.pk}/import/",
                              {"file": SimpleUploadedFile("签到.exe", b"MZ")}, follow=True)
    assert "不支持的文件类型" in not_a_table.content.decode()


def test_training_api_and_completion(w):
    api = client_for(w.filer)
    r = api.post("/api/v1/trainings/", {"title": "合规培训", "held_on": f"{YEAR}-06-01", "hours": "8",
                                        "clauses": ["2.1"]}, format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = api.post(f"/api/v1/trainings/{pk}/attendance/", {"employees": ["A1", "A2"]}, format="json")
    assert r.status_code == 200 and r.json()["attendees"] == 2
    assert api.post(f"/api/v1/trainings/{pk}/attendance/", {"employees": ["B1"]}, format="json").status_code == 400
    assert api.post("/api/v1/trainings/", {"title": "x", "held_on": f"{YEAR}-06-01", "hours": "0"},
                    format="json").status_code == 400
    assert TrainingSession.objects.count() == 1
    rows = {row["institution"]["code"]: row for row in
            client_for(w.fc).get(f"/api/v1/trainings/completion/?year={YEAR}").json()}
    assert rows["A001"]["completed"] == 2 and rows["A001"]["rate"] == "66.7"
    assert "C001" not in rows
    assert client_for(w.filer_b).get(f"/api/v1/trainings/{pk}/").status_code == 404
    page = client_for(w.fc).get(f"/activities/trainings/?year={YEAR}").content.decode()
    assert "66.7%" in page
