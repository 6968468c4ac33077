"""The deadline rules on real cases, as the API, the staff page and the public tracking page show
them: the conclusion from acceptance, forwarding from the day identified, extensions shown to the
complainant, the basis named on each case (信访工作条例 as an option), 交办 with a reply period."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.test import Client
from django.utils import timezone

from complaints.crypto import format_receipt_code
from complaints.models import Complaint, ComplaintEvent, ComplaintExtension
from tests.complaints.helpers import act, submit_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LIST = "/api/v1/complaints/"


@pytest.fixture
def on(monkeypatch):
    """Run what follows on `day` (10:00 in Asia/Shanghai), for the services' timezone.now()."""
    def travel(day: date) -> None:
        moment = timezone.make_aware(datetime(day.year, day.month, day.day, 10))
        monkeypatch.setattr(timezone, "now", lambda: moment)
    return travel


def action(client, case, name, **body):
    return client.post(f"{LIST}{case.pk}/actions/{name}/", body, format="json")


def snapshot(case) -> tuple:
    case = Complaint.objects.get(pk=case.pk)
    return (case.status, case.basis, case.extensions, case.version, case.reply_within, case.deadlines,
            ComplaintEvent.objects.filter(complaint=case).count(),
            ComplaintExtension.objects.filter(complaint=case).count())


def test_a_reports_conclusion_runs_from_acceptance(on, fc, fc_api, bank):
    on(date(2026, 6, 25))
    case, _ = submit_case(bank, kind="report")
    assert set(case.deadlines) == {"accept"} and case.deadlines["accept"]["date"] == "2026-07-10"
    on(date(2026, 7, 8))
    body = action(fc_api, case, "accept").json()
    # 8 Jul + 60 = Sun 6 Sep → Mon 7 Sep (from acceptance; from receipt it would be 24 Aug).
    assert body["deadlines"]["conclude"]["date"] == "2026-09-07"
    assert "顺延至下一工作日" in body["deadlines"]["conclude"]["basis"]
    assert body["next_due"]["key"] == "conclude"


def test_a_complaint_due_on_national_day_is_due_on_the_next_working_day(on, fc_api, bank):
    on(date(2026, 9, 16))
    case, _ = submit_case(bank, kind="complaint")
    item = fc_api.get(f"{LIST}{case.pk}/").json()
    assert item["deadlines"]["decide"]["date"] == "2026-10-08"
    assert item["next_due"] == {"key": "decide", "label": "作出处理决定", "date": "2026-10-08", "provisional": False,
                                "status": "ok"}


def test_a_case_flagged_on_day_10_is_not_overdue_at_once(on, fc, fc_api, bank):
    on(date(2026, 3, 2))
    case, _ = submit_case(bank, kind="report")
    act(case, "accept", fc)
    on(date(2026, 3, 12))
    body = action(fc_api, case, "flag_party_member").json()
    assert body["party_identified_on"] == "2026-03-12"
    assert body["deadlines"]["forward_discipline"]["date"] == "2026-03-19"
    assert body["next_due"]["key"] == "forward_discipline" and body["overdue"] is False
    assert "认定涉及党员后5个工作日" in body["deadlines"]["forward_discipline"]["basis"]
    # Flagging twice is a conflict and changes nothing.
    before = snapshot(case)
    assert action(fc_api, case, "flag_party_member").status_code == 409
    assert snapshot(case) == before


def test_forwarding_without_a_flag_identifies_the_involvement_that_day(on, fc, fc_api, bank):
    on(date(2026, 3, 2))
    case, _ = submit_case(bank, kind="complaint")
    act(case, "accept", fc)
    on(date(2026, 3, 20))
    body = action(fc_api, case, "forward_discipline").json()
    assert body["status"] == "forwarded_discipline" and body["status_label"] == "已移送区纪委监委"
    assert body["party_identified_on"] == "2026-03-20"


def test_extensions_are_recorded_and_shown_to_the_complainant(on, fc, fc_api, api, bank):
    on(date(2026, 2, 12))
    case, code = submit_case(bank, kind="complaint")
    act(case, "accept", fc)
    first = action(fc_api, case, "extend", reason="需调取监控录像核实")
    assert first.status_code == 200
    assert first.json()["deadlines"]["decide"]["date"] == "2026-03-16"  # 14 Mar is a Saturday
    # The second extension needs an approval: refused without one, nothing stored.
    before = snapshot(case)
    refused = action(fc_api, case, "extend", reason="涉及多个网点")
    assert refused.status_code == 400 and "审批" in refused.json()["approval"][0]
    assert snapshot(case) == before
    second = action(fc_api, case, "extend", reason="涉及多个网点", approval="张主任 路金〔2026〕3号")
    assert second.status_code == 200
    records = second.json()["extension_records"]
    assert [(r["number"], r["previous_due_on"], r["new_due_on"]) for r in records] == [
        (1, "2026-02-27", "2026-03-16"), (2, "2026-03-16", "2026-04-13")]
    assert records[1]["approval"] == "张主任 路金〔2026〕3号"  # internal, for the finance center
    # The public sees new dates and reasons, never the approval.
    public = api.get(f"/api/v1/public/complaints/{format_receipt_code(code)}/").json()
    assert public["due_on"] == "2026-04-13"
    assert [(x["new_due_on"], x["reason"]) for x in public["extensions"]] == [
        ("2026-03-16", "需调取监控录像核实"), ("2026-04-13", "涉及多个网点")]
    assert "路金" not in str(public)
    page = Client().post("/q/track/", {"code": code}).content.decode()
    assert "办理期限延长至 2026-04-13" in page and "需调取监控录像核实" in page and "路金" not in page
    # The legal maximum reached: 409.
    assert action(fc_api, case, "extend", reason="再延", approval="x").status_code == 409


def test_a_report_is_extended_only_once_accepted(fc_api, bank):
    case, _ = submit_case(bank, kind="report")
    before = snapshot(case)
    resp = action(fc_api, case, "extend", reason="情况复杂")
    assert resp.status_code == 409 and "先受理" in resp.json()["detail"]
    assert snapshot(case) == before


def test_the_finance_center_names_the_basis_xinfang(on, fc, fc_api, api, bank):
    on(date(2026, 9, 16))
    case, code = submit_case(bank, kind="complaint")
    item = fc_api.get(f"{LIST}{case.pk}/").json()
    assert item["basis"] == "financial" and "金融监管规定" in item["basis_label"]
    assert "set_basis" in item["allowed_actions"]
    # Bad input: 400, nothing stored; the same basis again: 409.
    before = snapshot(case)
    assert action(fc_api, case, "set_basis", basis="petition").status_code == 400
    assert action(fc_api, case, "set_basis").status_code == 400
    assert action(fc_api, case, "set_basis", basis="financial").status_code == 409
    assert snapshot(case) == before
    body = action(fc_api, case, "set_basis", basis="xinfang", reason="区政府交办的信访件").json()
    assert body["basis"] == "xinfang" and body["basis_label"] == "信访工作条例（2022）"
    assert set(body["deadlines"]) == {"accept"} and body["deadlines"]["accept"]["date"] == "2026-10-08"
    assert "信访工作条例" in body["deadlines"]["accept"]["basis"]
    event = ComplaintEvent.objects.filter(complaint=case, action="set_basis").get()
    assert event.reason.startswith("办理依据：信访工作条例")
    on(date(2026, 9, 20))
    body = action(fc_api, case, "accept").json()
    assert body["deadlines"]["conclude"]["date"] == "2026-11-19"
    # Under the 信访工作条例 every extension needs an approval, and there is one.
    assert action(fc_api, case, "extend", reason="情况复杂").status_code == 400
    assert action(fc_api, case, "extend", reason="情况复杂", approval="分管领导批准").status_code == 200
    assert action(fc_api, case, "extend", reason="再延", approval="x").status_code == 409
    public = api.get(f"/api/v1/public/complaints/{format_receipt_code(code)}/").json()
    assert public["due_on"] == "2026-12-21"


def test_a_basis_allowing_fewer_extensions_cannot_be_chosen_after_them(fc, fc_api, bank):
    case, _ = submit_case(bank, kind="complaint")
    act(case, "accept", fc)
    act(case, "extend", fc, reason="一")
    act(case, "extend", fc, reason="二", approval="批")
    before = snapshot(case)
    assert action(fc_api, case, "set_basis", basis="xinfang").status_code == 409
    assert snapshot(case) == before


def test_only_the_finance_center_sets_the_basis(fc, bank, head):
    from tests.conftest import client_for

    case, _ = submit_case(bank, kind="complaint")
    act(case, "accept", fc)
    act(case, "refer_institution", fc)
    before = snapshot(case)
    assert action(client_for(head), case, "set_basis", basis="xinfang").status_code == 403
    other = UserFactory(username="fc-elsewhere", roles=[])
    assert action(client_for(other), case, "set_basis", basis="xinfang").status_code in (403, 404)
    assert snapshot(case) == before


def test_a_hand_over_has_a_reply_period_in_working_days(on, fc, fc_api, bank):
    on(date(2026, 9, 1))
    case, _ = submit_case(bank, kind="complaint")
    act(case, "accept", fc)
    on(date(2026, 9, 25))
    before = snapshot(case)
    for bad in (0, 61, "十"):
        assert action(fc_api, case, "refer_institution", reply_within=bad).status_code == 400
    assert snapshot(case) == before
    body = action(fc_api, case, "refer_institution", reply_within=10).json()
    assert body["status"] == "referred_institution" and body["status_label"] == "已交办"
    assert body["reply_within"] == 10
    assert body["deadlines"]["institution_reply"]["date"] == "2026-10-15"
    event = ComplaintEvent.objects.filter(complaint=case, action="refer_institution").get()
    assert event.reason.startswith("交办，10个工作日内回复")


def test_a_hand_over_without_a_period_takes_the_setting(settings, fc, fc_api, bank):
    settings.COMPLAINTS_REFER_REPLY_WORKING_DAYS = 7
    case, _ = submit_case(bank, kind="complaint")
    act(case, "accept", fc)
    assert action(fc_api, case, "refer_institution").json()["reply_within"] == 7


def test_the_staff_page_shows_the_basis_and_the_forms(on, fc, bank):
    on(date(2026, 9, 16))
    case, _ = submit_case(bank, kind="complaint")
    client = Client()
    client.force_login(fc)
    html = client.get(f"/complaints/{case.pk}/").content.decode()
    assert "办理依据" in html and "金融监管规定" in html and 'name="basis"' in html
    assert "2026-10-08" in html and "顺延至下一工作日" in html
    resp = client.post(f"/complaints/{case.pk}/actions/set_basis/", {"basis": "xinfang", "version": case.version})
    assert resp.status_code == 302
    assert Complaint.objects.get(pk=case.pk).basis == "xinfang"
    refused = client.post(f"/complaints/{case.pk}/actions/set_basis/", {"basis": "nonsense"})
    assert refused.status_code == 400 and "请选择办理依据" in refused.content.decode()
    client.post(f"/complaints/{case.pk}/actions/accept/")
    html = client.get(f"/complaints/{case.pk}/").content.decode()
    assert "交办被反映机构" in html and 'name="reply_within"' in html and "移送区纪委监委" in html
    bad = client.post(f"/complaints/{case.pk}/actions/refer_institution/", {"reply_within": "abc"})
    assert bad.status_code == 400 and "1至60个工作日" in bad.content.decode()
    assert Complaint.objects.get(pk=case.pk).status == "accepted"
    ok = client.post(f"/complaints/{case.pk}/actions/refer_institution/", {"reply_within": "5"})
    assert ok.status_code == 302 and Complaint.objects.get(pk=case.pk).reply_within == 5
