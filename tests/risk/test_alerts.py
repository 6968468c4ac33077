"""The review queue: transitions, due dates, clean points, escalation and who sees what."""

import pytest

from risk import services
from risk.models import Alert, AlertAction, InstitutionSummary

from .conftest import Portal, load, rel, txn


@pytest.fixture
def alerts(portal, bank):
    load(portal, [txn("E1", "2026-03-10 09:00:00", "8000", "C1", counterparty_type="customer"),
                  txn("E2", "2026-03-10 09:00:00", "100", "M", channel="card", mcc="7995",
                      counterparty_type="merchant")],
         [rel("E1", "C1", "2026-01-01")])
    assert portal.screen("2026-01-01", "2026-06-30").status_code == 201
    # B's own alert (another institution of the district)
    b = Portal(bank.filer_b)
    load(b, [txn("E1", "2026-03-10 09:00:00", "100", "M", channel="card", mcc="7995", counterparty_type="merchant")])
    b.screen("2026-01-01", "2026-06-30")
    r01 = Alert.objects.get(institution=bank.a, rule="R01")
    r04 = Alert.objects.get(institution=bank.a, rule="R04")
    other = Alert.objects.get(institution=bank.b)
    return r01, r04, other


def post(user, alert, verb, **data):
    return Portal(user).client.post(f"/api/v1/risk/alerts/{alert.pk}/actions/{verb}/", data, format="json")


def test_item_shape_and_due_dates(portal, alerts):
    r01, r04, _ = alerts
    items = {a["rule"]: a for a in portal.alerts()}
    assert set(items) == {"R01", "R04"}
    item = items["R01"]
    assert {"id", "rule", "severity", "employee_no", "counterparty_id", "period", "status", "due_on",
            "evidence"} <= set(item)
    assert item["counterparty_id"] == "C1" and items["R04"]["counterparty_id"] is None
    from complaints.selectors import holiday_schedule
    from core.workdays import add_working_days

    schedule = holiday_schedule({r01.raised_on.year, r01.raised_on.year + 1})
    assert r01.due_on == add_working_days(r01.raised_on, 5, schedule).date
    assert r04.due_on == add_working_days(r04.raised_on, 5, schedule).date


def test_transitions_and_conflicts(bank, alerts):
    r01, _r04, _ = alerts
    assert post(bank.filer, r01, "dismiss", note="x").status_code == 409  # new: review first
    assert post(bank.filer, r01, "dismiss").status_code == 400  # and a reason is needed in any state
    assert post(bank.filer, r01, "escalate").status_code == 409
    assert post(bank.filer, r01, "review").status_code == 200
    assert post(bank.filer, r01, "review").status_code == 409
    response = post(bank.filer, r01, "dismiss")
    assert response.status_code == 400  # a dismissal needs a reason
    r01.refresh_from_db()
    assert r01.status == "reviewing"
    response = post(bank.head, r01, "dismiss", note="亲属之间的正常往来")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    assert post(bank.head, r01, "confirm").status_code == 409
    assert list(AlertAction.objects.filter(alert=r01).values_list("action", flat=True)) == ["review", "dismiss"]


def test_confirm_with_a_deduction_then_escalate_to_the_finance_center(bank, alerts):
    from staff_points.models import PointRecord, ViolationType

    r01, r04, _ = alerts
    vtype = ViolationType.objects.create(code="RK01", name="参与赌博", module="discipline", points=2)
    fc = Portal(bank.fc)
    assert fc.alerts() == []
    assert fc.client.get(f"/api/v1/risk/alerts/{r04.pk}/").status_code == 404
    post(bank.filer, r04, "review")
    response = post(bank.filer, r04, "confirm", note="核实涉赌", violation_code=vtype.code)
    assert response.status_code == 200, response.content
    record = PointRecord.objects.get(pk=response.json()["point_record_id"])
    assert record.employee.employee_no == "E2" and record.violation_type == vtype
    assert post(bank.filer, r04, "escalate", note="上报").status_code == 200
    assert [a["id"] for a in fc.alerts()] == [r04.pk]
    assert fc.client.get(f"/api/v1/risk/alerts/{r04.pk}/").json()["evidence"]
    assert fc.client.get(f"/api/v1/risk/alerts/{r01.pk}/").status_code == 404
    assert post(bank.fc, r04, "review").status_code == 403  # the finance center does not review
    forwarded = fc.client.post(f"/api/v1/risk/alerts/{r04.pk}/actions/forward/", {"to": "区纪委"}, format="json")
    assert forwarded.status_code == 200 and forwarded.json()["forwarded_to"] == "区纪委"
    # 椒江's finance center sees nothing of 路桥
    assert Portal(bank.fc_jj).alerts() == []
    assert Portal(bank.fc_jj).client.get(f"/api/v1/risk/alerts/{r04.pk}/").status_code == 404


def test_other_institutions_and_districts_get_404_and_nothing_changes(bank, alerts):
    r01, _r04, other = alerts
    for user in (bank.filer_b, bank.filer_c, bank.insp, bank.emp):
        p = Portal(user)
        assert r01.pk not in [a["id"] for a in p.alerts()]
        assert p.client.get(f"/api/v1/risk/alerts/{r01.pk}/").status_code == 404
        assert post(user, r01, "review").status_code == 404
    r01.refresh_from_db()
    assert r01.status == "new"
    assert [a["id"] for a in Portal(bank.filer_b).alerts()] == [other.pk]
    assert Portal(bank.filer_b).client.get(f"/api/v1/risk/screenings/{r01.screening_id}/").status_code == 404


def test_filters(portal, alerts):
    assert [a["rule"] for a in portal.alerts(rule="R04")] == ["R04"]
    assert [a["rule"] for a in portal.alerts(severity="high", status="new")] != []
    assert portal.alerts(status="dismissed") == []
    assert portal.client.get("/api/v1/risk/alerts/", {"rule": "R99"}).status_code == 400


def test_summary_counts_without_persons(bank, alerts):
    r01, _r04, _ = alerts
    post(bank.filer, r01, "review")
    response = Portal(bank.fc).client.get("/api/v1/risk/summary/", {"year": 2026})
    assert response.status_code == 200
    body = response.json()
    rows = {r["institution"]["code"]: r for r in body["results"]}
    assert rows["RA01"]["by_rule"]["R01"] == 1 and rows["RA01"]["by_rule"]["R04"] == 1
    assert rows["RA01"]["by_status"]["reviewing"] == 1 and rows["RA01"]["overdue"] == 0
    assert rows["RB01"]["total"] == 1 and "RC01" not in rows
    text = response.content.decode()
    assert "E1" not in text and "C1" not in text and "员工" not in text
    assert InstitutionSummary.objects.filter(institution=bank.a).exists()
    for user in (bank.filer, bank.insp, bank.emp):
        assert Portal(user).client.get("/api/v1/risk/summary/").status_code == 403
    assert Portal(bank.fc).client.get("/api/v1/risk/summary/", {"district": "331002"}).status_code == 404


def test_overdue_is_flagged_and_reminded(bank, alerts):
    import datetime as dt

    from core.models import OutgoingMail

    r01, _r04, _ = alerts
    later = r01.due_on + dt.timedelta(days=1)
    assert services.remind_overdue(later) == 1
    assert services.remind_overdue(later) == 0  # once a day
    assert OutgoingMail.objects.filter(kind="risk.reminder", recipients__icontains="filer@example.invalid").exists()
    assert services.refresh_summary(bank.a.pk, 2026, today=later).overdue == 2


def test_employees_api(bank):
    def numbers(user):
        response = Portal(user).client.get("/api/v1/employees/", {"page_size": 500})
        assert response.status_code == 200
        return sorted((e["institution"]["code"], e["employee_no"]) for e in response.json()["results"])

    assert numbers(bank.filer) == [("RA01", n) for n in ("E1", "E2", "E3", "E4")]
    fc = numbers(bank.fc)
    assert ("RB01", "E1") in fc and ("RA01", "E1") in fc and ("RC01", "E1") not in fc
    assert numbers(bank.insp) == [] and numbers(bank.emp) == []
    item = Portal(bank.filer).client.get("/api/v1/employees/").json()["results"][0]
    assert {"employee_no", "name", "department", "position", "institution"} <= set(item)
    assert item["institution"] == {"code": "RA01", "name": "甲银行"} and item["district"] == "331004"


def test_a_forward_or_an_assignment_read_before_a_change_is_refused(bank, alerts):
    """(Review finding: both checked the alert object they had read; two forwards at once both went
    through, and an alert concluded at the same moment could still be assigned.)"""
    from risk import services

    r01, r04, _ = alerts
    post(bank.filer, r04, "review")
    post(bank.filer, r04, "confirm", note="核实")
    post(bank.filer, r04, "escalate", note="上报")
    first_read, second_read = Alert.objects.get(pk=r04.pk), Alert.objects.get(pk=r04.pk)
    services.forward(bank.fc, first_read, "区纪委")
    with pytest.raises(services.StateConflict):
        services.forward(bank.fc, second_read, "区监察委")
    assert Alert.objects.get(pk=r04.pk).forwarded_to == "区纪委"
    assert AlertAction.objects.filter(alert=r04, action="forward").count() == 1

    stale = Alert.objects.get(pk=r01.pk)  # read while open
    post(bank.head, r01, "review")
    assert post(bank.head, r01, "dismiss", note="正常往来").status_code == 200
    concluded = Alert.objects.get(pk=r01.pk).assignee_id
    with pytest.raises(services.StateConflict):
        services.assign(bank.head, stale, bank.filer.pk)
    assert Alert.objects.get(pk=r01.pk).assignee_id == concluded != bank.filer.pk
    assert not AlertAction.objects.filter(alert=r01, action="assign").exists()
