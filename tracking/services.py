"""督办事项: every write. The public surface for other apps (they import only this and selectors).

    from tracking import services as tracking

    item = tracking.create_item(institution=inst, kind="complaint_referral", title="…",
                                start=date, working_days=10, source_app="complaints",
                                source_id=case.pk, actor=user)
    tracking.report(item, user, measures="…", files=[UploadedFile, ...])   # open → reported
    tracking.accept(item, user, note="")                                    # reported → closed (销号)
    tracking.return_item(item, user, reason="…", working_days=5)           # reported → open
    tracking.listen("complaints", callback)   # callback(item, action) after each change of
                                              # an item whose source_app is "complaints"

Due dates are `working_days` working days after `start` on the shared calendar (core.workdays with
the holiday table of complaints.selectors.holiday_schedule). Who may do what:
- report: the institution's filer or head (NotAllowed otherwise), from `open` only;
- accept / return: the finance center or an inspector of the item's district, from `reported` only;
  a return needs a reason and may set a new period (working days from today).
Refusals are core.errors: DomainError 400 (bad input), NotAllowed 403, StateConflict 409 (the
item's state forbids the action). Callers scope lookups with tracking.selectors (others' items: 404).

`send_reminders(today)` (the beat job tracking.send_reminders) mails, once per due date, the
institution's filer and head a few days before the due date and after it, and escalates items
overdue for TRACKING_ESCALATE_AFTER_DAYS to the head and the district's finance center, through
core.outbox; the same reminder goes on the notification channels (notifications.services.notify: the
institution's robots / duty phone / mailbox, the people's phones; for an escalation the finance
center's officers and robots too), keyed like the mail so a second run sends nothing.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import outbox
from core.errors import DomainError, NotAllowed, StateConflict
from institutions import access
from institutions.models import DistrictGrant, Institution, Membership, Role

from . import rules
from .models import Event, EvidenceFile, Reminder, Reply, Status, TrackedItem

REVIEWER_ROLES = (Role.FINANCE_CENTER, Role.INSPECTOR)
REPORTER_ROLES = (Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD)
MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "application/msword", "text/plain"}

_listeners: dict[str, list[Callable[[TrackedItem, str], None]]] = {}


def listen(source_app: str, callback: Callable[[TrackedItem, str], None]) -> None:
    """Call `callback(item, action)` inside the transaction after each change ("created",
    "reported", "accepted", "returned") of an item whose source_app is `source_app` (register in
    AppConfig.ready(); registering the same callback again is a no-op)."""
    callbacks = _listeners.setdefault(source_app, [])
    if callback not in callbacks:
        callbacks.append(callback)


def _notify(item: TrackedItem, action: str) -> None:
    for callback in _listeners.get(item.source_app, ()):
        callback(item, action)


def compute_due(start: date, working_days: int):
    """The DueDate `working_days` working days after `start` on the shared holiday calendar."""
    from complaints.selectors import holiday_schedule

    schedule = holiday_schedule(rules.years_spanned(start, working_days))
    return rules.due_date(start, working_days, schedule)


def _period(working_days) -> int:
    try:
        return rules.check_working_days(working_days)
    except ValueError as exc:
        raise DomainError(str(exc), field="rectify_within") from None


@transaction.atomic
def create_item(*, institution: Institution, kind: str, title: str, start: date, working_days: int,
                source_app: str = "", source_id: int | None = None, detail: str = "", actor=None) -> TrackedItem:
    """Hand a duty to `institution`, due `working_days` working days after `start`."""
    if kind not in TrackedItem.Kind.values:
        raise DomainError(_("未知的督办事项类型。"), field="kind")
    title = (title or "").strip()
    if not title:
        raise DomainError(_("请填写督办事项。"), field="title")
    days = _period(working_days)
    due = compute_due(start, days)
    item = TrackedItem.objects.create(
        institution=institution, district_id=institution.district_id, kind=kind, source_app=source_app,
        source_id=source_id, title=title[:300], detail=detail or "", start_on=start, working_days=days,
        due_on=due.date, due_provisional=due.provisional, created_by=actor if _real(actor) else None)
    Event.objects.create(item=item, action=Event.Action.CREATED, actor=item.created_by, due_on=item.due_on,
                         note=due.basis)
    _notify(item, "created")
    return item


def _real(user) -> bool:
    return bool(user is not None and getattr(user, "pk", None))


def _locked(item: TrackedItem) -> TrackedItem:
    return TrackedItem.objects.select_for_update().get(pk=item.pk)


def _check_state(action: str, item: TrackedItem) -> None:
    if not rules.allowed(action, item.status):
        raise StateConflict(_("该事项当前状态为“{status}”，不能执行此操作。").format(status=item.get_status_display()))


def may_report(user, item: TrackedItem) -> bool:
    return access.is_superuser(user) or item.institution_id in access.member_institution_ids(user, *REPORTER_ROLES)


def may_review(user, item: TrackedItem) -> bool:
    return access.acts_in(user, item.district_id, *REVIEWER_ROLES)


def _store_files(reply: Reply, files: Iterable) -> None:
    files = [f for f in files if f]
    if len(files) > MAX_FILES:
        raise DomainError(_("最多上传{n}个佐证材料。").format(n=MAX_FILES), field="evidence")
    for upload in files:
        name = (getattr(upload, "name", "") or _("附件")).rsplit("/", 1)[-1][:200]
        size = getattr(upload, "size", None) or 0
        if size > MAX_FILE_BYTES:
            raise DomainError(_("{name} 超过10MB。").format(name=name), field="evidence")
        data = upload.read()
        if not data:
            raise DomainError(_("{name} 是空文件。").format(name=name), field="evidence")
        content_type = (getattr(upload, "content_type", "") or mimetypes.guess_type(name)[0]
                        or "application/octet-stream")
        if content_type not in ALLOWED_TYPES:
            raise DomainError(_("{name} 的类型不支持（可上传 PDF、图片、Word 或文本文件）。").format(name=name),
                              field="evidence")
        row = EvidenceFile(reply=reply, name=name, content_type=content_type, size=len(data),
                           sha256=hashlib.sha256(data).hexdigest())
        row.file.save(f"{reply.item_id}-{reply.pk}.bin", ContentFile(data), save=False)
        row.save()


@transaction.atomic
def report(item: TrackedItem, user, *, measures: str, files: Iterable = (), system: bool = False) -> TrackedItem:
    """The institution reports its measures (with evidence): open → reported. `system=True` records a
    reply on the institution's behalf without a role check (imports and demo data only; `user` may be None)."""
    item = _locked(item)
    if not system and not may_report(user, item):
        raise NotAllowed(_("只有本机构的填报员或负责人可以报送整改情况。"))
    _check_state("report", item)
    measures = (measures or "").strip()
    if not measures:
        raise DomainError(_("请填写整改措施及结果。"), field="measures")
    now = timezone.now()
    today = timezone.localdate(now)
    reply = Reply.objects.create(item=item, measures=measures, author=user if _real(user) else None,
                                 due_on=item.due_on, on_time=rules.on_time(today, item.due_on), created_at=now)
    _store_files(reply, files)
    item.status = rules.next_status("report")
    item.reported_at = now
    item.save(update_fields=["status", "reported_at", "updated_at"])
    Event.objects.create(item=item, action=Event.Action.REPORTED, actor=reply.author, due_on=item.due_on,
                         note=measures[:2000], at=now)
    _notify(item, "reported")
    return item


@transaction.atomic
def accept(item: TrackedItem, user, *, note: str = "") -> TrackedItem:
    """销号: the reviewer accepts the last reply: reported → closed."""
    item = _locked(item)
    if not may_review(user, item):
        raise NotAllowed(_("只有区金融工作中心或检查组可以审核整改情况。"))
    _check_state("accept", item)
    last = item.replies.order_by("-created_at", "-id").first()
    now = timezone.now()
    item.status = rules.next_status("accept")
    item.closed_at = now
    item.closed_on_time = bool(last and last.on_time)
    item.save(update_fields=["status", "closed_at", "closed_on_time", "updated_at"])
    Event.objects.create(item=item, action=Event.Action.ACCEPTED, actor=user if _real(user) else None,
                         due_on=item.due_on, note=(note or "").strip()[:2000], at=now)
    _notify(item, "accepted")
    return item


@transaction.atomic
def return_item(item: TrackedItem, user, *, reason: str, working_days: int | None = None) -> TrackedItem:
    """The reviewer returns the reply with a reason: reported → open; with `working_days`, a new due
    date that many working days from today."""
    item = _locked(item)
    if not may_review(user, item):
        raise NotAllowed(_("只有区金融工作中心或检查组可以审核整改情况。"))
    _check_state("return", item)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写退回理由。"), field="reason")
    fields = ["status", "returns", "updated_at"]
    if working_days not in (None, ""):
        days = _period(working_days)
        due = compute_due(timezone.localdate(), days)
        item.due_on, item.due_provisional, item.working_days = due.date, due.provisional, days
        item.start_on = timezone.localdate()
        fields += ["due_on", "due_provisional", "working_days", "start_on"]
    item.status = rules.next_status("return")
    item.returns += 1
    item.save(update_fields=fields)
    Event.objects.create(item=item, action=Event.Action.RETURNED, actor=user if _real(user) else None,
                         due_on=item.due_on, note=reason[:2000])
    _notify(item, "returned")
    return item


# --- reminders ---------------------------------------------------------------------------------


def _emails(institution_id: int, roles) -> list[str]:
    return list(Membership.objects.filter(institution_id=institution_id, role__in=list(roles))
                .exclude(user__email="").values_list("user__email", flat=True))


def _finance_emails(district_id: int) -> list[str]:
    return list(DistrictGrant.objects.filter(district_id=district_id, role=Role.FINANCE_CENTER)
                .exclude(user__email="").values_list("user__email", flat=True))


_SUBJECTS = {
    "due_soon": gettext_lazy("【督办提醒】{title}将于{due}到期"),
    "overdue": gettext_lazy("【逾期提醒】{title}已于{due}到期，尚未报送整改情况"),
    "escalation": gettext_lazy("【逾期上报】{institution}：{title}逾期未整改（期限{due}）"),
}
_EVENTS = {"due_soon": Event.Action.REMINDED, "overdue": Event.Action.OVERDUE, "escalation": Event.Action.ESCALATED}


def send_reminders(today: date | None = None) -> int:
    """Beat job: the reminders due by `today` for open items, each once per item, kind and due date
    (a Reminder row and the outbox key make it idempotent). Returns how many reminders were recorded."""
    today = today or timezone.localdate()
    before = getattr(settings, "TRACKING_REMIND_DAYS_BEFORE", 3)
    escalate = getattr(settings, "TRACKING_ESCALATE_AFTER_DAYS", 5)
    url = getattr(settings, "TRACKING_PORTAL_URL", "")
    sent = 0
    candidates = (TrackedItem.objects.filter(status=Status.OPEN, due_on__lte=today + timedelta(days=before))
                  .select_related("institution"))
    for item in candidates.iterator():
        kinds = rules.reminders_due(item.status, item.due_on, today, days_before=before, escalate_after=escalate)
        for kind in kinds:
            sent += _remind(item, kind, url)
    return sent


@transaction.atomic
def _remind(item: TrackedItem, kind: str, url: str) -> int:
    _row, created = Reminder.objects.get_or_create(item=item, kind=kind, due_on=item.due_on)
    if not created:
        return 0
    if kind == "escalation":
        recipients = _emails(item.institution_id, [Role.INSTITUTION_HEAD]) + _finance_emails(item.district_id)
    else:
        recipients = _emails(item.institution_id, REPORTER_ROLES)
    subject = _SUBJECTS[kind].format(title=item.title[:60], due=item.due_on.isoformat(),
                                     institution=item.institution.name)
    body = _("{institution}：\n\n督办事项“{title}”的办结期限为{due}，当前状态：{status}。\n"
             "请登录清廉金融平台报送整改措施及佐证材料。\n{url}\n").format(
        institution=item.institution.name, title=item.title, due=dateformat.format(item.due_on, _("Y年m月d日")),
        status=item.get_status_display(), url=url)
    key = f"tracking:{kind}:{item.pk}:{item.due_on.isoformat()}"
    count = outbox.enqueue(key, recipients, subject, body, kind=f"tracking.{kind}")
    pushed = _remind_by_channels(item, kind, key)
    Reminder.objects.filter(item=item, kind=kind, due_on=item.due_on).update(recipients=len(set(recipients)))
    note = _("已通知{n}人").format(n=len(set(recipients))) if count else _("无可通知的邮箱")
    if pushed:
        note += _("；短信/钉钉/企业微信 {n} 条").format(n=pushed)
    Event.objects.create(item=item, action=_EVENTS[kind], due_on=item.due_on, note=note)
    return 1


_CHANNEL_KINDS = {"due_soon": "reminder.rectification", "overdue": "reminder.rectification_overdue",
                  "escalation": "reminder.rectification_escalation"}


def _remind_by_channels(item: TrackedItem, kind: str, key: str) -> int:
    """The same reminder on the institution's channels (robots, duty phone, mailbox) and its people's
    phones (their mail is the one above); an escalation also to the finance center's officers and
    robots. The text names the institution, a count and the due date: never the item's title (a
    finding may name an employee) nor a complaint's content."""
    from notifications import services as notifications

    roles = [Role.INSTITUTION_HEAD] if kind == "escalation" else list(REPORTER_ROLES)
    users = [m.user for m in Membership.objects.filter(institution_id=item.institution_id, role__in=roles,
                                                       user__is_active=True).select_related("user")]
    if kind == "escalation":
        users += [g.user for g in DistrictGrant.objects.filter(district_id=item.district_id, role=Role.FINANCE_CENTER,
                                                               user__is_active=True).select_related("user")]
    return notifications.notify(key, _CHANNEL_KINDS[kind],
                                {"institution": item.institution.name, "count": 1, "due": item.due_on.isoformat()},
                                institutions=[item.institution], users=users, user_channels=("sms",),
                                district=item.district_id if kind == "escalation" else None)
