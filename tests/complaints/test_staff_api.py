"""The staff API as its users call it: the queue, actions (409 when not allowed), who sees what."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import Complaint, ComplaintEvent, PiiReveal
from complaints.selectors import holiday_schedule
from core.workdays import next_working_day
from tests.complaints.helpers import act, make_image, submit_case
from tests.conftest import client_for
from tests.factories import UserFactory, institution_user

pytestmark = pytest.mark.django_db
LIST = "/api/v1/complaints/"


def action(client, case, name, **body):
    return client.post(f"{LIST}{case.pk}/actions/{name}/", body, format="json")


def test_list_requires_login_and_a_queue_role(api, bank):
    submit_case(bank)
    assert api.get(LIST).status_code == 401
    inspector = UserFactory(username="insp", roles=["inspector"])
    assert client_for(inspector).get(LIST).status_code == 403
    filer = institution_user(bank, "institution_filer", username="filer")
    assert client_for(filer).get(LIST).status_code == 403


def test_finance_center_list_shape_and_filters(fc_api, bank, other_bank):
    report, _ = submit_case(bank, kind="report", description="收红包")
    suggestion, _ = submit_case(other_bank, kind="suggestion", description="增加窗口")
    submit_case(bank, kind="rating", description="", ratings={"attitude": 5})
    resp = fc_api.get(LIST)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"count", "next", "previous", "results"} and body["count"] == 3
    item = next(r for r in body["results"] if r["id"] == report.pk)
    for key in ("kind", "status", "institution", "received_at", "deadlines", "next_due", "overdue", "description"):
        assert key in item
    assert item["institution"] == {"code": bank.code, "name": bank.name}
    assert item["next_due"]["key"] == "accept" and item["overdue"] is False
    assert "contact_name_enc" not in item and "receipt_hash" not in item
    assert [r["id"] for r in fc_api.get(LIST, {"kind": "suggestion"}).json()["results"]] == [suggestion.pk]
    assert fc_api.get(LIST, {"institution": other_bank.code}).json()["count"] == 1
    assert fc_api.get(LIST, {"status": "accepted"}).json()["count"] == 0
    assert fc_api.get(LIST, {"status": "nonsense"}).status_code == 400
    assert fc_api.get(LIST, {"overdue": "maybe"}).status_code == 400


def test_overdue_filter(fc_api, bank):
    late, _ = submit_case(bank, kind="report")
    Complaint.objects.filter(pk=late.pk).update(next_due_on=timezone.localdate() - timedelta(days=1))
    fresh, _ = submit_case(bank, kind="report")
    assert [r["id"] for r in fc_api.get(LIST, {"overdue": "true"}).json()["results"]] == [late.pk]
    assert [r["id"] for r in fc_api.get(LIST, {"overdue": "false"}).json()["results"]] == [fresh.pk]
    assert fc_api.get(f"{LIST}{late.pk}/").json()["overdue"] is True


def test_list_query_count_is_bounded(fc_api, bank, other_bank, django_assert_max_num_queries):
    for n in range(30):
        submit_case(bank if n % 2 else other_bank, kind="report", description=f"案件{n}")
    with django_assert_max_num_queries(8):
        resp = fc_api.get(LIST, {"page_size": 100})
    assert resp.json()["count"] == 30


def test_full_lifecycle_through_the_api(fc_api, fc, bank):
    case, _ = submit_case(bank, kind="report", description="收购物卡")
    resp = action(fc_api, case, "accept")
    assert resp.status_code == 200 and resp.json()["status"] == "accepted"
    assert resp.json()["next_due"]["key"] == "conclude"
    assert action(fc_api, case, "verify").json()["status"] == "verifying"
    assert action(fc_api, case, "refer_institution").json()["status"] == "referred_institution"
    # 交办: the institution's reply (a tracked item) is accepted before the case concludes.
    assert action(fc_api, case, "conclude", outcome="partially_substantiated").status_code == 409
    from tracking import services as tracking
    from tracking.models import TrackedItem

    item = TrackedItem.objects.get(source_app="complaints", source_id=case.pk)
    tracking.accept(tracking.report(item, None, measures="已整改", system=True), fc)
    resp = action(fc_api, case, "conclude", outcome="partially_substantiated")
    assert resp.json()["status"] == "concluded" and resp.json()["outcome"] == "partially_substantiated"
    resp = action(fc_api, case, "close", reply="已整改")
    body = resp.json()
    assert body["status"] == "closed" and body["next_due"] is None
    assert [n["body"] for n in body["notes"] if n["is_public"]] == ["已整改"]
    events = list(ComplaintEvent.objects.filter(complaint=case).values_list("action", "from_status", "to_status",
                                                                             "actor__username"))
    assert events == [
        ("accept", "received", "accepted", "fc"), ("verify", "accepted", "verifying", "fc"),
        ("refer_institution", "verifying", "referred_institution", "fc"),
        ("institution_reply", "referred_institution", "referred_institution", None),
        ("reply_accepted", "referred_institution", "referred_institution", "fc"),
        ("conclude", "referred_institution", "concluded", "fc"), ("close", "concluded", "closed", "fc")]


def test_action_not_allowed_from_current_state_is_409_and_changes_nothing(fc_api, bank):
    case, _ = submit_case(bank, kind="report")
    for name, body in (("verify", {}), ("conclude", {"outcome": "substantiated"}), ("close", {"reply": "x"}),
                       ("forward_discipline", {}), ("archive", {})):
        resp = action(fc_api, case, name, **body)
        assert resp.status_code == 409, (name, resp.content)
        assert resp.json()["detail"]
    case.refresh_from_db()
    assert case.status == "received" and case.events.count() == 0


def test_missing_reason_outcome_reply_are_400(fc_api, bank):
    case, _ = submit_case(bank, kind="report")
    resp = action(fc_api, case, "reject")
    assert resp.status_code == 400 and "reason" in resp.json()
    action(fc_api, case, "accept")
    action(fc_api, case, "verify")
    resp = action(fc_api, case, "conclude")
    assert resp.status_code == 400 and "outcome" in resp.json()
    assert action(fc_api, case, "conclude", outcome="maybe").status_code == 400
    action(fc_api, case, "conclude", outcome="unsubstantiated")
    resp = action(fc_api, case, "close", reply="  ")
    assert resp.status_code == 400 and "reply" in resp.json()
    case.refresh_from_db()
    assert case.status == "concluded"


def test_reject_with_reason_shows_publicly(fc_api, api, bank):
    case, code = submit_case(bank, kind="complaint")
    resp = action(fc_api, case, "reject", reason="不属于本中心受理范围，请向消保部门反映")
    assert resp.json()["status"] == "rejected"
    public = api.get(f"/api/v1/public/complaints/{code}/").json()
    assert public["status"] == "rejected" and "消保" in public["reject_reason"]


def test_unknown_action_404(fc_api, bank):
    case, _ = submit_case(bank)
    assert action(fc_api, case, "delete").status_code == 404


def test_stale_version_is_409(fc_api, bank):
    case, _ = submit_case(bank, kind="report")
    version = case.version
    assert action(fc_api, case, "accept", version=version).status_code == 200
    assert action(fc_api, case, "verify", version=version).status_code == 409


def test_discipline_sees_only_forwarded_cases_and_concludes(fc, bank):
    forwarded, _ = submit_case(bank, kind="report", description="党员干部收礼")
    other, _ = submit_case(bank, kind="report", description="其他")
    act(forwarded, "accept", fc)
    act(forwarded, "forward_discipline", fc)
    disc = client_for(UserFactory(username="disc", roles=["discipline"]))
    body = disc.get(LIST).json()
    assert [r["id"] for r in body["results"]] == [forwarded.pk]
    assert disc.get(f"{LIST}{other.pk}/").status_code == 404
    assert action(disc, other, "accept").status_code == 404
    detail = disc.get(f"{LIST}{forwarded.pk}/").json()
    assert detail["allowed_actions"] == ["conclude"]
    assert action(disc, forwarded, "close", reply="x").status_code == 403
    resp = action(disc, forwarded, "conclude", outcome="substantiated", reason="给予党内警告处分")
    assert resp.status_code == 200 and resp.json()["status"] == "concluded"
    # Still visible to them afterwards (they recorded the outcome), but nothing more to do.
    assert disc.get(f"{LIST}{forwarded.pk}/").json()["allowed_actions"] == []


def test_head_sees_referred_case_of_own_institution_without_identity(fc, bank, other_bank, head, other_head):
    case, _ = submit_case(bank, kind="complaint", description="态度恶劣", anonymous=False,
                          contact_name="黄小明", contact_phone="13812345678", images=[])
    unreferred, _ = submit_case(bank, kind="complaint")
    head_api = client_for(head)
    assert head_api.get(LIST).json()["count"] == 0  # nothing referred yet
    act(case, "accept", fc)
    act(case, "refer_institution", fc)
    body = head_api.get(LIST).json()
    assert [r["id"] for r in body["results"]] == [case.pk]
    detail = head_api.get(f"{LIST}{case.pk}/")
    text = detail.content.decode()
    assert detail.status_code == 200
    assert detail.json()["contact"] is None
    assert "黄" not in text and "13812345678" not in text and "138****" not in text
    assert detail.json()["allowed_actions"] == []
    assert head_api.get(f"{LIST}{unreferred.pk}/").status_code == 404
    # The head adds the institution's handling note; cannot reply publicly or reveal.
    resp = head_api.post(f"{LIST}{case.pk}/notes/", {"body": "已约谈当事员工"}, format="json")
    assert resp.status_code == 200
    assert head_api.post(f"{LIST}{case.pk}/notes/", {"body": "x", "public": True}, format="json").status_code == 403
    assert head_api.post(f"{LIST}{case.pk}/reveal/", {"reason": "想知道"}, format="json").status_code == 403
    assert not PiiReveal.objects.exists()
    # Another institution's head gets 404 for it, by list and by id.
    other_api = client_for(other_head)
    assert other_api.get(LIST).json()["count"] == 0
    assert other_api.get(f"{LIST}{case.pk}/").status_code == 404
    assert other_api.post(f"{LIST}{case.pk}/notes/", {"body": "x"}, format="json").status_code == 404


def test_internal_notes_hidden_from_head(fc, fc_api, bank, head):
    case, _ = submit_case(bank, kind="complaint")
    act(case, "accept", fc)
    fc_api.post(f"{LIST}{case.pk}/notes/", {"body": "内部：反映人系该行前员工"}, format="json")
    act(case, "refer_institution", fc)
    text = client_for(head).get(f"{LIST}{case.pk}/").content.decode()
    assert "前员工" not in text
    assert "前员工" in fc_api.get(f"{LIST}{case.pk}/").content.decode()


def test_reveal_identity_is_logged(fc, fc_api, bank):
    case, _ = submit_case(bank, kind="complaint", anonymous=False, contact_name="黄小明",
                          contact_phone="13812345678")
    detail = fc_api.get(f"{LIST}{case.pk}/").json()
    assert detail["contact"] == {"name": "黄某", "phone": "138****5678"}
    assert fc_api.post(f"{LIST}{case.pk}/reveal/", {}, format="json").status_code == 400
    assert not PiiReveal.objects.exists()
    resp = fc_api.post(f"{LIST}{case.pk}/reveal/", {"reason": "需电话核实情况"}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"name": "黄小明", "phone": "13812345678"}
    log = PiiReveal.objects.get()
    assert log.user == fc and log.complaint == case and log.reason == "需电话核实情况"


def test_reveal_anonymous_is_409(fc_api, bank):
    case, _ = submit_case(bank, anonymous=True)
    assert fc_api.post(f"{LIST}{case.pk}/reveal/", {"reason": "x"}, format="json").status_code == 409


def test_discipline_cannot_reveal(fc, bank):
    case, _ = submit_case(bank, kind="report", anonymous=False, contact_name="张三", contact_phone="13812345678")
    act(case, "accept", fc)
    act(case, "forward_discipline", fc)
    disc = client_for(UserFactory(username="disc2", roles=["discipline"]))
    detail = disc.get(f"{LIST}{case.pk}/")
    assert detail.json()["contact"] is None and "张" not in detail.content.decode()
    assert disc.post(f"{LIST}{case.pk}/reveal/", {"reason": "x"}, format="json").status_code == 403


def test_images_listed_for_finance_center_not_head(fc, fc_api, bank, head):
    from complaints.images import process_image

    data = make_image()
    case, _ = submit_case(bank, kind="complaint", images=[(process_image(data), data)])
    detail = fc_api.get(f"{LIST}{case.pk}/").json()
    assert len(detail["images"]) == 1
    url = detail["images"][0]["url"]
    act(case, "accept", fc)
    act(case, "refer_institution", fc)
    assert client_for(head).get(f"{LIST}{case.pk}/").json()["images"] == []
    assert url.endswith(f"/complaints/{case.pk}/images/1/")


def test_flag_party_member_starts_forwarding_deadline(fc_api, bank):
    case, _ = submit_case(bank, kind="complaint")
    # Forwarding runs from the day the involvement is identified, not from receipt.
    assert "forward_discipline" not in case.deadlines and case.next_due_key == "decide"
    resp = action(fc_api, case, "flag_party_member")
    body = resp.json()
    assert body["involves_party_member"] is True
    assert body["party_identified_on"] == timezone.localdate().isoformat()
    # Five working days is sooner than 15 calendar days: it is now the running deadline.
    assert body["next_due"]["key"] == "forward_discipline"


def test_extension_needs_approval_the_second_time(fc_api, bank):
    case, _ = submit_case(bank, kind="complaint")

    def days_after(n: int) -> str:
        # The period ends on its last day, or on the next working day when that is a rest day (DOMAIN.md):
        # counted from today, the 60th day may be a Saturday.
        start = case.deadline_from + timedelta(days=n)
        return next_working_day(start, holiday_schedule({start.year, start.year + 1}))[0].isoformat()

    assert case.deadlines["decide"]["date"] == days_after(15)
    resp = action(fc_api, case, "extend", reason="情况复杂")
    assert resp.json()["deadlines"]["decide"]["date"] == days_after(30)
    resp = action(fc_api, case, "extend", reason="需调取录像")
    assert resp.status_code == 400 and "approval" in resp.json()
    resp = action(fc_api, case, "extend", reason="需调取录像", approval="王主任批准 〔2026〕3号")
    assert resp.json()["deadlines"]["decide"]["date"] == days_after(60)
    assert action(fc_api, case, "extend", reason="再延").status_code == 409


def test_merge_duplicates_keeps_earliest_deadline(fc_api, bank, other_bank):
    first, _ = submit_case(bank, kind="suggestion", description="建议周六开放对公窗口", staff_name="")
    Complaint.objects.filter(pk=first.pk).update(deadline_from=first.deadline_from - timedelta(days=5))
    first.refresh_from_db()
    second, _ = submit_case(bank, kind="suggestion", description="建议周六开放对公业务窗口！")
    elsewhere, _ = submit_case(other_bank, kind="suggestion", description="建议周六开放对公窗口")
    # Merge the earlier case into the later one: the later one takes the earlier deadline.
    resp = action(fc_api, first, "merge", target=second.pk)
    assert resp.status_code == 200 and resp.json()["status"] == "merged"
    second.refresh_from_db()
    assert second.deadline_from == first.deadline_from
    last = first.deadline_from + timedelta(days=15)  # moved to the next working day when a rest day
    assert second.deadlines["decide"]["date"] == next_working_day(last, holiday_schedule({last.year}))[0].isoformat()
    # Merging across institutions is refused.
    resp = action(fc_api, elsewhere, "merge", target=second.pk)
    assert resp.status_code == 400
    # Merged cases leave the queue, and their tracking shows the target's progress.
    ids = [r["id"] for r in fc_api.get(LIST).json()["results"]]
    assert first.pk not in ids and second.pk in ids


def test_duplicate_candidates(bank):
    from complaints.selectors import duplicate_candidates

    a, _ = submit_case(bank, kind="suggestion", description="营业厅空调太冷，建议调高温度")
    b, _ = submit_case(bank, kind="suggestion", description="营业厅空调太冷了，建议调高温度。")
    submit_case(bank, kind="suggestion", description="希望增加自助存取款机")
    assert [c.pk for c in duplicate_candidates(b)] == [a.pk]


def test_convert_rating_to_report(fc_api, bank):
    case, _ = submit_case(bank, kind="rating", description="柜员暗示要好处才给快点办", ratings={"integrity": 1})
    empty, _ = submit_case(bank, kind="rating", description="", ratings={"attitude": 5})
    assert action(fc_api, empty, "convert_to_report", reason="x").status_code == 409
    resp = action(fc_api, case, "convert_to_report", reason="评价内容反映索要好处")
    body = resp.json()
    assert body["kind"] == "report" and body["next_due"]["key"] == "accept"
    assert action(fc_api, empty, "archive").json()["status"] == "closed"


def test_statistics_endpoint(fc, fc_api, bank, head):
    case, _ = submit_case(bank, kind="report")
    act(case, "accept", fc)
    act(case, "verify", fc)
    act(case, "conclude", fc, outcome="substantiated")
    body = fc_api.get(f"{LIST}stats/", {"year": timezone.localdate().year}).json()
    assert body["total"] == 1 and body["by_outcome"] == {"substantiated": 1}
    assert body["substantiation_rate"] == "100.0"
    assert client_for(head).get(f"{LIST}stats/").status_code == 200
    disc = client_for(UserFactory(username="disc3", roles=["discipline"]))
    assert disc.get(f"{LIST}stats/").status_code == 403


def test_a_case_no_configured_key_opens_is_shown_not_a_500(fc_api, bank, settings, caplog):
    """A key dropped from COMPLAINTS_PII_KEY too early (or a restore without its key): the detail and
    the actions still work, the identity reads （无法解密）, a reveal is refused with a clear 503 and
    is not logged as seen, and the error is logged for the operator."""
    from cryptography.fernet import Fernet

    case, _ = submit_case(bank, kind="complaint", anonymous=False, contact_name="黄小明",
                          contact_phone="13812345678")
    settings.COMPLAINTS_PII_KEYS = [Fernet.generate_key().decode()]
    detail = fc_api.get(f"{LIST}{case.pk}/")
    assert detail.status_code == 200
    assert detail.json()["contact"] == {"name": "（无法解密）", "phone": "（无法解密）"}
    assert "cannot be decrypted" in caplog.text
    resp = fc_api.post(f"{LIST}{case.pk}/reveal/", {"reason": "需电话核实情况"}, format="json")
    assert resp.status_code == 503 and "无法解密" in resp.json()["detail"]
    assert not PiiReveal.objects.exists()
    assert action(fc_api, case, "accept").status_code == 200
    case.refresh_from_db()
    assert case.status == "accepted"
