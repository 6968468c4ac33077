"""Tracked items: working-day due dates, every transition allowed and refused, history, hooks."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.errors import DomainError, NotAllowed, StateConflict
from tracking import rules, selectors, services
from tracking.models import Event, EvidenceFile, Reply, TrackedItem

pytestmark = pytest.mark.django_db


def _item(inst, start=date(2026, 11, 2), days=5, **kw):
    return services.create_item(institution=inst, kind="finding", title="会客室未公示廉洁承诺", start=start,
                                working_days=days, **kw)


@pytest.mark.parametrize(("start", "days", "due"), [
    (date(2026, 9, 29), 5, date(2026, 10, 12)),   # across National Day, Sat 10 Oct is a make-up day
    (date(2026, 9, 18), 2, date(2026, 9, 21)),    # Sun 20 Sep is a make-up working day
    (date(2026, 2, 12), 3, date(2026, 2, 24)),    # Spring Festival: Sat 14 Feb works, 15-23 rest
    (date(2026, 2, 26), 2, date(2026, 2, 28)),    # Sat 28 Feb is a make-up working day
    (date(2026, 11, 27), 1, date(2026, 11, 30)),  # an ordinary weekend
])
def test_due_dates_in_working_days(places, start, days, due):
    item = _item(places["a"], start=start, days=days)
    assert item.due_on == due
    assert item.district_id == places["a"].district_id
    assert item.status == "open" and not item.due_provisional


@pytest.mark.parametrize("days", [0, -1, "x", 251, True])
def test_bad_periods_are_refused(places, days):
    with pytest.raises(DomainError):
        _item(places["a"], days=days)
    assert not TrackedItem.objects.exists()


def test_report_accept_and_history(places):
    item = _item(places["a"], start=timezone.localdate() - timedelta(days=1), days=10)
    evidence = SimpleUploadedFile("整改照片.png", b"\x89PNG fake", content_type="image/png")
    services.report(item, places["filer_a"], measures="已张贴廉洁承诺", files=[evidence])
    item.refresh_from_db()
    assert item.status == "reported"
    assert EvidenceFile.objects.get().name == "整改照片.png"
    services.accept(item, places["insp"])
    item.refresh_from_db()
    assert item.status == "closed" and item.closed_on_time is True and item.closed_at
    assert [e.action for e in item.events.all()] == ["created", "reported", "accepted"]


def test_return_with_new_due_date_then_report_again(places):
    item = _item(places["a"])
    services.report(item, places["head_a"], measures="整改中")
    services.return_item(item, places["fc"], reason="佐证不足", working_days=3)
    item.refresh_from_db()
    assert item.status == "open" and item.returns == 1
    assert item.due_on == services.compute_due(timezone.localdate(), 3).date
    assert Event.objects.filter(item=item, action="returned", note="佐证不足").exists()
    services.report(item, places["filer_a"], measures="补充佐证")
    assert Reply.objects.filter(item=item).count() == 2


def test_return_keeps_due_date_without_period(places):
    item = _item(places["a"])
    due = item.due_on
    services.report(item, places["filer_a"], measures="整改中")
    services.return_item(item, places["fc"], reason="再核实")
    item.refresh_from_db()
    assert item.due_on == due and item.status == "open"


@pytest.mark.parametrize(("status", "action"), [
    ("open", "accept"), ("open", "return"), ("reported", "report"), ("closed", "report"),
    ("closed", "accept"), ("closed", "return"),
])
def test_refused_transitions_are_409(places, status, action):
    item = _item(places["a"])
    if status in ("reported", "closed"):
        services.report(item, places["filer_a"], measures="措施")
    if status == "closed":
        services.accept(item, places["fc"])
    item.refresh_from_db()
    before = (item.status, item.returns, item.events.count())
    with pytest.raises(StateConflict):
        if action == "report":
            services.report(item, places["filer_a"], measures="再报")
        elif action == "accept":
            services.accept(item, places["fc"])
        else:
            services.return_item(item, places["fc"], reason="x")
    item.refresh_from_db()
    assert (item.status, item.returns, item.events.count()) == before


def test_who_may_act(places):
    item = _item(places["a"])
    for user in ("fc", "insp", "emp_a", "filer_b", "third"):
        with pytest.raises(NotAllowed):
            services.report(item, places[user], measures="措施")
    services.report(item, places["filer_a"], measures="措施")
    for user in ("filer_a", "head_a", "fc_jj", "third"):
        with pytest.raises(NotAllowed):
            services.accept(item, places[user])
    assert TrackedItem.objects.get().status == "reported"


def test_return_needs_a_reason(places):
    item = _item(places["a"])
    services.report(item, places["filer_a"], measures="措施")
    with pytest.raises(DomainError):
        services.return_item(item, places["fc"], reason="  ")
    assert TrackedItem.objects.get().status == "reported"


def test_visibility(places):
    a_item = _item(places["a"])
    c_item = _item(places["c"])
    assert set(selectors.visible_items(places["filer_a"])) == {a_item}
    assert set(selectors.visible_items(places["fc"])) == {a_item}
    assert set(selectors.visible_items(places["insp"])) == {a_item}
    assert set(selectors.visible_items(places["fc_jj"])) == {c_item}
    for user in ("filer_b", "emp_a", "third"):
        assert not selectors.visible_items(places[user]).exists()


def test_overdue_is_derived(places):
    today = timezone.localdate()
    late = _item(places["a"], start=today - timedelta(days=30), days=3)
    fresh = _item(places["a"], start=today, days=3)
    rows = {i.pk: i.overdue for i in selectors.visible_items(places["fc"])}
    assert rows == {late.pk: True, fresh.pk: False}
    assert list(selectors.filter_status(selectors.visible_items(places["fc"]), "overdue")) == [late]
    assert selectors.counts(TrackedItem.objects.all())["overdue"] == 1


def test_listeners_hear_each_change(places):
    heard = []
    services.listen("demo-app", lambda item, action: heard.append(action))
    item = _item(places["a"], source_app="demo-app", source_id=7)
    services.report(item, places["filer_a"], measures="措施")
    services.accept(item, places["fc"])
    assert heard == ["created", "reported", "accepted"]
    assert selectors.items_for("demo-app", [7]) == {7: item}


def test_transitions_table():
    assert rules.allowed("report", "open") and not rules.allowed("report", "reported")
    assert rules.allowed("accept", "reported") and not rules.allowed("accept", "open")
    assert rules.allowed("return", "reported") and not rules.allowed("return", "closed")
