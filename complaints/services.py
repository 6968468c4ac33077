"""Writes: intake, the guarded state machine, notes, reveals, codes, retention, notifications,
holidays and questionnaires. Every change happens in a transaction; anything queued is queued on
commit, so a case is in PostgreSQL before any broker hears of it."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import uuid4

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractMonth, ExtractYear
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from core import outbox, queue
from core.errors import DomainError, Unavailable
from core.workdays import DueDate, schedule_from_chinese_calendar
from institutions.models import DistrictGrant, Institution, Role, new_public_code
from notifications import services as notifications
from notifications.complainants import complainant_notice
from tracking import services as tracking

from . import rules, selectors, tallies
from .crypto import (
    InvalidToken,
    decrypt_bytes,
    decrypt_text,
    encrypt_bytes,
    encrypt_text,
    hash_secret,
    new_receipt_code,
    new_token,
)
from .deadlines import case_deadlines, extended_key
from .images import ProcessedImage
from .models import (
    Complaint,
    ComplaintEvent,
    ComplaintExtension,
    ComplaintNote,
    EvidenceImage,
    HolidayDate,
    HolidayYear,
    Notification,
    PiiReveal,
    Question,
    Questionnaire,
    RetiredPublicCode,
    SatisfactionTally,
    SurveyBatch,
    SurveyLink,
    SurveyResponse,
)

logger = logging.getLogger(__name__)


class DuplicateSubmission(Exception):
    """The same form was submitted twice (e.g. the browser re-sent it): the first one counts."""


class ServiceError(DomainError):
    """A request that cannot be carried out: 409 with `conflict`, 403 with `forbidden`, else 400 (about
    `field` when given). The API's exception handler answers it like every other DomainError."""

    def __init__(self, message: str, *, conflict: bool = False, forbidden: bool = False, field: str = "") -> None:
        super().__init__(message, field=field)
        self.message = message
        self.conflict = conflict
        self.forbidden = forbidden

    @property
    def status(self) -> int:  # type: ignore[override]
        return 409 if self.conflict else 403 if self.forbidden else 400


# --- deadlines ------------------------------------------------------------------------------


def _event_days(case: Complaint) -> dict[str, date | None]:
    """The days the case's periods run from (none before its receipt: a merged case's receipt may
    have moved back)."""
    def local(value: datetime | None) -> date | None:
        return None if value is None else max(timezone.localdate(value), case.deadline_from)

    identified = case.party_identified_on if case.involves_party_member else None
    return {
        "concluded_on": local(case.concluded_at),
        "accepted_on": local(case.accepted_at),
        "identified_on": None if identified is None else max(identified, case.deadline_from),
        "referred_on": local(case.referred_at) if case.reply_within else None,
    }


def _schedule_years(case: Complaint) -> set[int]:
    years = {case.deadline_from.year, case.deadline_from.year + 1}
    for day in _event_days(case).values():
        if day is not None:
            years |= {day.year, day.year + 1}
    return years


def apply_deadlines(case: Complaint, *, fresh: bool = False) -> None:
    """Recompute the case's due dates and the one running now (in memory; the caller saves)."""
    if case.kind == "rating":
        case.deadlines, case.next_due_on, case.next_due_key, case.deadlines_provisional = {}, None, "", False
        return
    schedule = selectors.holiday_schedule(_schedule_years(case), fresh=fresh)
    days = _event_days(case)
    dues = case_deadlines(case.kind, case.deadline_from, anonymous=case.anonymous, schedule=schedule,
                          extensions=case.extensions, basis=case.basis,
                          reply_working_days=case.reply_within if days["referred_on"] else None, **days)
    if "institution_reply" in dues and case.reply_due_on and case.reply_due_on != dues["institution_reply"].date:
        # The tracked item's due date is in force (a return may have set a new period).
        dues["institution_reply"] = DueDate(  # i18n-exempt: basis text stored on the case (as deadlines.py)
            case.reply_due_on, provisional=False, basis="机构回复被退回后重新确定的回复期限")
    active = rules.active_deadline_keys(kind=case.kind, status=case.status, anonymous=case.anonymous,
                                        involves_party_member=case.involves_party_member,
                                        forwarded=case.forwarded_at is not None, basis=case.basis,
                                        reply_pending=case.reply_state in ("", "open"))
    running = rules.next_deadline(dues, active)
    case.deadlines = {k: {"date": d.date.isoformat(), "provisional": d.provisional, "basis": d.basis}
                      for k, d in dues.items()}
    case.next_due_key, case.next_due_on = (running[0], running[1].date) if running else ("", None)
    case.deadlines_provisional = any(d.provisional for d in dues.values())


_DEADLINE_FIELDS = ["deadlines", "next_due_on", "next_due_key", "deadlines_provisional"]


def refresh_deadlines(*, only_provisional: bool = True, batch: int = 500) -> int:
    """Recompute stored due dates (after the holiday table changed). Idempotent."""
    selectors.clear_holiday_cache()
    qs = Complaint.objects.exclude(kind="rating").filter(status__in=rules.OPEN_STATES)
    if only_provisional:
        qs = qs.filter(deadlines_provisional=True)
    changed = 0
    for case in qs.iterator(chunk_size=batch):
        before = (case.deadlines, case.next_due_on, case.deadlines_provisional)
        apply_deadlines(case, fresh=True)
        if before == (case.deadlines, case.next_due_on, case.deadlines_provisional):
            continue
        with transaction.atomic():
            # Changed: done again on the locked row (an action may have changed the case since it was
            # read), its tally share moved with it (a concluded case's on-time figure follows its deadline).
            case = Complaint.objects.select_for_update().filter(pk=case.pk).first()
            if case is None:
                continue
            share = tallies.share_of(case)
            before = (case.deadlines, case.next_due_on, case.deadlines_provisional)
            apply_deadlines(case)  # the schedule read fresh just above
            if before != (case.deadlines, case.next_due_on, case.deadlines_provisional):
                Complaint.objects.filter(pk=case.pk).update(**{f: getattr(case, f) for f in _DEADLINE_FIELDS})
                tallies.record(share, tallies.share_of(case))
                changed += 1
    return changed


def backdate(case: Complaint, day: date) -> None:
    """Move a case's receipt to 10:00 on `day` (demo and seed data only: a real case keeps its
    receipt), its due dates, trail and monthly tally with it."""
    share = tallies.share_of(case)
    received = timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=10))
    case.received_at, case.deadline_from = received, day
    apply_deadlines(case)
    with transaction.atomic():
        case.save(update_fields=["received_at", "deadline_from", *_DEADLINE_FIELDS])
        case.events.update(at=received)
        tallies.record(share, tallies.share_of(case))


# --- intake ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    institution: Institution
    kind: str
    description: str = ""
    staff_name: str = ""
    occurred_on: date | None = None
    anonymous: bool = True
    contact_name: str = ""
    contact_phone: str = ""
    ratings: dict[str, int] | None = None
    images: Sequence[tuple[ProcessedImage, bytes]] = ()
    channel: str = Complaint.Channel.FORM
    submission_token: str = ""


@dataclass(frozen=True)
class Receipt:
    complaint: Complaint
    receipt_code: str


def submit(sub: Submission) -> Receipt:
    """Store a case from the public (already validated) and queue its notification after commit."""
    if sub.anonymous and (sub.contact_name or sub.contact_phone):
        raise ServiceError(gettext("匿名反映不填写姓名和电话。"))
    if not sub.anonymous and not (sub.contact_name and sub.contact_phone):
        raise ServiceError(gettext("实名反映请填写姓名和手机号码。"))
    if len(sub.images) > 3:
        raise ServiceError(gettext("最多上传3张图片。"))
    code = new_receipt_code()
    ratings = sub.ratings or {}
    now = timezone.now()
    case = Complaint(
        institution=sub.institution, kind=sub.kind, channel=sub.channel, description=sub.description,
        staff_name=sub.staff_name, occurred_on=sub.occurred_on, anonymous=sub.anonymous,
        contact_name_enc=encrypt_text(sub.contact_name), contact_phone_enc=encrypt_text(sub.contact_phone),
        rating_attitude=ratings.get("attitude"), rating_efficiency=ratings.get("efficiency"),
        rating_integrity=ratings.get("integrity"),
        receipt_hash=hash_secret(code, "receipt"),
        submission_token_hash=hash_secret(sub.submission_token, "submission") if sub.submission_token else None,
        received_at=now, deadline_from=timezone.localdate(now), basis=settings.COMPLAINTS_DEFAULT_BASIS,
        # Ratings page nobody; every other case goes into the next new-case digest.
        staff_notified_at=now if sub.kind == "rating" else None,
    )
    apply_deadlines(case)
    written: list[str] = []
    try:
        # The case, its images and its count in the monthly tally commit together; the tally's
        # upsert comes last, so its row is locked only for the commit's round trip.
        # The receipt itself is the case's first entry (received_at); events record actions, and the
        # row is its own outbox entry for the new-case mail (staff_notified_at).
        # Inside a caller's transaction a savepoint keeps a refused duplicate from poisoning it.
        with transaction.atomic():
            case.save(force_insert=True)
            for position, (processed, original) in enumerate(sub.images, 1):
                written += _store_image(case, position, processed, original)
            tallies.record(None, tallies.share_of(case))
            if case.kind != "rating":
                transaction.on_commit(enqueue_notifications)
    except IntegrityError as exc:
        for name in written:
            EvidenceImage._meta.get_field("working").storage.delete(name)
        if sub.submission_token and Complaint.objects.filter(
                submission_token_hash=hash_secret(sub.submission_token, "submission")).exists():
            raise DuplicateSubmission from exc
        raise
    except Exception:
        for name in written:
            EvidenceImage._meta.get_field("working").storage.delete(name)
        raise
    return Receipt(complaint=case, receipt_code=code)


def _store_image(case: Complaint, position: int, processed: ProcessedImage, original: bytes) -> list[str]:
    stem = uuid4().hex
    image = EvidenceImage(complaint=case, position=position, content_type=processed.content_type,
                          width=processed.width, height=processed.height,
                          original_sha256=processed.original_sha256, original_size=processed.original_size)
    image.working.save(f"{stem}.{processed.extension}", ContentFile(processed.working), save=False)
    image.sealed_original.save(f"{stem}.sealed", ContentFile(encrypt_bytes(original)), save=False)
    image.save(force_insert=True)
    return [image.working.name, image.sealed_original.name]


def _notification_body(case: Complaint, message: str) -> str:
    # No personal data in mail: the case number, kind, institution and what is due.
    due = ""
    if case.next_due_on:
        label = rules.DEADLINE_LABELS.get(case.next_due_key, case.next_due_key)
        due = gettext("\n当前期限：{label} {due_on:%Y-%m-%d}").format(label=label, due_on=case.next_due_on)
        if case.deadlines_provisional:
            due += gettext("（暂定：该年度节假日安排尚未录入）")
    path = reverse("complaints:case-detail", args=[case.pk])
    return gettext("{message}\n案件编号：#{pk}\n类型：{kind}\n机构：{institution}{due}\n办理页面：{url}").format(
        message=message, pk=case.pk, kind=case.get_kind_display(), institution=case.institution.name, due=due,
        url=f"{settings.COMPLAINTS_PUBLIC_BASE_URL}{path}")


# --- the state machine ----------------------------------------------------------------------


@dataclass(frozen=True)
class ActionInput:
    reason: str = ""
    outcome: str = ""
    reply: str = ""
    approval: str = ""
    target: int | None = None
    version: int | None = None
    basis: str = ""  # set_basis: "financial" or "xinfang"
    reply_within: int | None = None  # refer_institution: working days for the institution's reply


def perform_action(case_id: int, action: str, actor, data: ActionInput = ActionInput()) -> Complaint:
    """Apply one action of the state machine, recorded with who, when and why.

    Raises ServiceError (conflict=True for a state conflict, forbidden=True for a role that may never
    do it). The caller must already have checked that `actor` may see the case.
    """
    with transaction.atomic():
        case = Complaint.objects.select_for_update().select_related("institution").get(pk=case_id)
        if data.version is not None and data.version != case.version:
            raise ServiceError(gettext("案件已被他人更新，请刷新后再操作。"), conflict=True)
        share = tallies.share_of(case)
        sides = selectors.case_sides(actor, case)
        try:
            target_status = rules.check_transition(action, status=case.status, kind=case.kind, sides=sides,
                                                   extensions=case.extensions, basis=case.basis)
        except rules.TransitionError as exc:
            raise ServiceError(exc.message, conflict=not exc.forbidden, forbidden=exc.forbidden)
        now = timezone.now()
        from_status = case.status
        reason = (data.reason or "").strip()
        notify: list[tuple[str, str, str]] = []
        if rules.TRANSITIONS[action].needs == "reason" and not reason:
            raise ServiceError(gettext("请填写理由。"), field="reason")

        if action == "accept":
            case.accepted_at = now
            if case.assignee_id is None:
                case.assignee = actor
        elif action == "reject":
            case.rejected_at = case.closed_at = now
            case.reject_reason = reason
        elif action == "verify":
            case.verifying_at = now
        elif action == "forward_discipline":
            case.forwarded_at = now
            if not case.involves_party_member:
                case.involves_party_member = True
                case.party_identified_on = timezone.localdate(now)
            notify.append((Notification.Kind.FORWARDED, f"fwd:{case.pk}",
                           gettext("区金融工作中心已将此案件移送区纪委监委。")))
        elif action == "refer_institution":
            case.reply_within = _reply_within(data.reply_within)
            case.referred_at = now
            item = _hand_over(case, actor, now, reason)
            case.reply_due_on, case.reply_state = item.due_on, Complaint.ReplyState.OPEN
            notify.append((Notification.Kind.REFERRED, f"ref:{case.pk}",
                           gettext("区金融工作中心已将此案件交办贵机构，请于{reply_within}个工作日内回复办理情况。").format(
                               reply_within=case.reply_within)))
        elif action == "conclude":
            refusal = rules.conclude_refusal(status=case.status, reply_state=case.reply_state)
            if refusal:
                raise ServiceError(refusal, conflict=True)
            if data.outcome not in rules.OUTCOMES:
                raise ServiceError(gettext("请选择核查结论：属实、部分属实或不属实。"), field="outcome")
            case.outcome = data.outcome
            case.concluded_at = now
        elif action == "close":
            reply = (data.reply or "").strip()
            if not reply:
                raise ServiceError(gettext("办结须填写给反映人的答复。"), field="reply")
            ComplaintNote.objects.create(complaint=case, author=actor, author_side=rules.FINANCE_CENTER, body=reply,
                                         is_public=True, created_at=now)
            case.closed_at = now
        elif action == "archive":
            case.closed_at = now
        elif action == "convert_to_report":
            if not case.description.strip():
                raise ServiceError(gettext("该评价没有文字内容，不能转为举报。"), conflict=True)
            case.kind = "report"
            case.converted_from_rating = True
        elif action == "flag_party_member":
            if case.involves_party_member:
                raise ServiceError(gettext("该案件已标记涉及党员。"), conflict=True)
            # The 5 working days to forward the case run from today, the day it is identified.
            case.involves_party_member = True
            case.party_identified_on = timezone.localdate(now)
        elif action == "extend":
            refusal = rules.extension_refusal(kind=case.kind, basis=case.basis, status=case.status)
            if refusal:
                raise ServiceError(refusal, conflict=True)
            approval = (data.approval or "").strip()
            if rules.extension_needs_approval(case.kind, case.extensions, case.basis) and not approval:
                raise ServiceError(gettext("延长期限须记录审批情况（审批人、文号）。"), field="approval")
            extended = extended_key(case.kind, case.basis)
            previous = case.deadlines.get(extended, {}).get("date")
            case.extensions += 1
            extension = ComplaintExtension(complaint=case, number=case.extensions, deadline_key=extended,
                                           previous_due_on=date.fromisoformat(previous) if previous else None,
                                           reason=reason[:2000], approval=approval[:500], actor=actor, at=now)
            if approval:
                reason = gettext("{reason}（审批：{approval}）").format(reason=reason, approval=approval)
        elif action == "set_basis":
            basis = (data.basis or "").strip()
            if basis not in Complaint.Basis.values:
                raise ServiceError(gettext("请选择办理依据：金融监管规定或信访工作条例。"), field="basis")
            if basis == case.basis:
                raise ServiceError(gettext("案件已按该依据办理。"), conflict=True)
            if case.extensions > rules.max_extensions(case.kind, basis):
                raise ServiceError(gettext("已延期的次数超过该依据允许的上限，不能变更办理依据。"), conflict=True)
            case.basis = basis
        elif action == "merge":
            target = _merge_target(case, data.target)
            case.merged_into = target
            case.closed_at = now
            target_share = tallies.share_of(target)
            target.deadline_from = min(target.deadline_from, case.deadline_from)
            apply_deadlines(target)
            target.version += 1
            target.save(update_fields=[*_DEADLINE_FIELDS, "deadline_from", "version"])
            tallies.record(target_share, tallies.share_of(target))
            ComplaintEvent.objects.create(complaint=target, action="merge_in", from_status=target.status,
                                          to_status=target.status, actor=actor, at=now,
                                          reason=gettext("合并案件 #{pk}；{reason}").format(
                                              pk=case.pk, reason=reason).strip("；"))
        case.status = target_status
        apply_deadlines(case)
        case.version += 1
        case.save()
        if action == "extend":
            extension.new_due_on = date.fromisoformat(case.deadlines[extended]["date"])
            extension.save(force_insert=True)
        ComplaintEvent.objects.create(complaint=case, action=action, from_status=from_status, to_status=case.status,
                                      actor=actor, at=now,
                                      reason=_event_reason(action, reason, data))
        _record_notice(case, complainant_notice(
            case, action, lambda: _decrypted(case, case.contact_phone_enc, "phone")), now)
        for kind, key, message in notify:
            Notification.objects.create(complaint=case, kind=kind, dedupe_key=key,
                                        subject=f"{Notification.Kind(kind).label}：#{case.pk}",
                                        body=_notification_body(case, message))
        if notify:
            transaction.on_commit(enqueue_notifications)
        # last: the tally's row (shared by the month's cases of the institution) is locked until commit
        tallies.record(share, tallies.share_of(case))
    return case


# --- notices to named complainants (notifications.complainants): recorded on the case ---------------

def _record_notice(case: Complaint, notice, at) -> None:
    """The SMS to a named complainant (acceptance, refusal, result) in the case's log: which notice,
    the channel, the masked number, its state; or why it could not be sent. Finance center only."""
    if notice.stored:
        ComplaintEvent.objects.create(complaint=case, action="notice_queued", from_status=case.status,
                                      to_status=case.status, at=at,
                                      reason=gettext("{what} · 短信 · {number} · 待发送").format(
                                          what=_notice_label(notice.kind), number=notice.recipient))
    elif notice.skipped:
        ComplaintEvent.objects.create(complaint=case, action="notice_skipped", from_status=case.status,
                                      to_status=case.status, at=at,
                                      reason=f"{_notice_label(notice.kind)} · {notice.skipped}")


def _notice_label(kind: str) -> str:
    from notifications.rules import TEMPLATES

    subject = TEMPLATES.get(kind)
    return str(subject[0]) if subject else gettext("告知反映人")


def on_complainant_notice(message) -> None:
    """notifications' listener: a notice to a complainant was finally sent or finally failed; the
    case's log says so (masked number, channel, time; the gateway's error on a failure)."""
    from notifications.complainants import case_id_of
    from notifications.rules import mask_recipient

    case_id = case_id_of(message.key)
    status = Complaint.objects.filter(pk=case_id).values_list("status", flat=True).first() if case_id else None
    if status is None:
        return
    sent = message.status == "sent"
    reason = (f"{_notice_label(message.kind)} · {message.get_channel_display()} · "
              f"{mask_recipient(message.channel, message.recipient)} · {message.get_status_display()}")
    if not sent:
        reason += gettext("（尝试 {n} 次：{error}）").format(n=message.attempts, error=message.last_error[:300])
    ComplaintEvent.objects.create(complaint_id=case_id, action="notice_sent" if sent else "notice_failed",
                                  from_status=status, to_status=status, reason=reason,
                                  at=message.sent_at or timezone.now())


def _event_reason(action: str, reason: str, data: ActionInput) -> str:
    if action == "conclude":
        return gettext("结论：{label}").format(
            label=Complaint.Outcome(data.outcome).label) + (f"；{reason}" if reason else "")
    if action == "merge":
        return gettext("合并至 #{target}").format(target=data.target) + (f"；{reason}" if reason else "")
    if action == "set_basis":
        return gettext("办理依据：{label}").format(
            label=Complaint.Basis(data.basis.strip()).label) + (f"；{reason}" if reason else "")
    if action == "refer_institution":
        return gettext("交办，{days}个工作日内回复").format(
            days=_reply_within(data.reply_within)) + (f"；{reason}" if reason else "")
    return reason


def _hand_over(case: Complaint, actor, now: datetime, reason: str):
    """交办 as a tracked item (督办事项) owned by the institution: its filer and head reply with
    evidence by the due date, the finance center accepts (销号) or returns it; the case follows
    (on_tracked_item). The item names the case, never the complainant nor the text."""
    due_hint = gettext("请于{reply_within}个工作日内核查并报送办理情况及佐证材料。").format(
        reply_within=case.reply_within)
    detail = "\n".join(p for p in (reason, due_hint, gettext("案件详情由机构负责人在“投诉举报处理”页面查看。")) if p)
    return tracking.create_item(
        institution=case.institution, kind="complaint_referral",
        title=gettext("投诉举报交办：{kind} #{pk}").format(kind=case.get_kind_display(), pk=case.pk), detail=detail,
        start=timezone.localdate(now), working_days=case.reply_within,
        source_app="complaints", source_id=case.pk, actor=actor)


def on_tracked_item(item, action: str) -> None:
    """tracking calls this inside its transaction after each change of an item handed over from a
    case (source_app "complaints"): the case records the reply's state, its due date and the event."""
    if item.kind != "complaint_referral" or action not in rules.REPLY_EVENTS:
        return
    case = Complaint.objects.select_for_update().filter(pk=item.source_id).select_related("institution").first()
    if case is None or case.status != rules.REFERRED:
        return
    state = {"reported": Complaint.ReplyState.REPORTED, "accepted": Complaint.ReplyState.ACCEPTED,
             "returned": Complaint.ReplyState.OPEN}[action]
    last = item.events.order_by("-id").first()  # the change just made
    share = tallies.share_of(case)
    case.reply_state, case.reply_due_on = state, item.due_on
    apply_deadlines(case)
    case.version += 1
    case.save(update_fields=["reply_state", "reply_due_on", "version", *_DEADLINE_FIELDS])
    tallies.record(share, tallies.share_of(case))
    note = (last.note if last else "")[:500]
    reason = {"reported": gettext("被反映机构已报送办理情况，待审核"),
              "accepted": gettext("机构回复审核通过（销号）"),
              "returned": gettext("机构回复被退回，回复期限 {due_on:%Y-%m-%d}").format(due_on=item.due_on)}[action]
    ComplaintEvent.objects.create(complaint=case, action=rules.REPLY_EVENTS[action], from_status=case.status,
                                  to_status=case.status, actor=last.actor if last else None,
                                  reason=f"{reason}：{note}" if note and action != "accepted" else reason)


def _reply_within(value: int | None) -> int:
    """The working days an institution has to reply to a hand-over (交办): as given, else the setting."""
    days = settings.COMPLAINTS_REFER_REPLY_WORKING_DAYS if value is None else value
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60:
        raise ServiceError(gettext("交办回复期限应为1至60个工作日。"), field="reply_within")
    return days


def _merge_target(case: Complaint, target_id: int | None) -> Complaint:
    if not target_id:
        raise ServiceError(gettext("请选择要合并到的案件。"), field="target")
    target = Complaint.objects.select_for_update().filter(pk=target_id).first()
    if target is None or target.pk == case.pk:
        raise ServiceError(gettext("合并目标不存在。"), field="target")
    if target.institution_id != case.institution_id or target.kind != case.kind:
        raise ServiceError(gettext("只能合并同一机构、同一类型的案件。"), field="target")
    if target.status not in rules.OPEN_STATES - {rules.CONCLUDED}:
        raise ServiceError(gettext("合并目标已结案，不能合并。"), conflict=True)
    return target


def add_note(case: Complaint, actor, body: str, *, public: bool = False) -> ComplaintNote:
    sides = selectors.case_sides(actor, case)
    body = (body or "").strip()
    if not body:
        raise ServiceError(gettext("请填写内容。"), field="body")
    if public and rules.FINANCE_CENTER not in sides:
        raise ServiceError(gettext("只有区金融工作中心可以发布公开答复。"), forbidden=True)
    if rules.FINANCE_CENTER in sides:
        side = rules.FINANCE_CENTER
    elif rules.DISCIPLINE in sides:
        side = rules.DISCIPLINE
    elif rules.INSTITUTION in sides:
        side = rules.INSTITUTION
    else:
        raise ServiceError(gettext("您无权为此案件添加意见。"), forbidden=True)
    return ComplaintNote.objects.create(complaint=case, author=actor, author_side=side, body=body[:4000],
                                        is_public=public)


@dataclass(frozen=True)
class Identity:
    name: str
    phone: str


def _decrypted(case: Complaint, token: str, what: str) -> str | None:
    """The clear text, or None (logged as an error) when no configured key opens it: a key dropped from
    COMPLAINTS_PII_KEY too early, or a database restored without its key. One unreadable case must not
    take the queue, the detail or an action down with it."""
    try:
        return decrypt_text(token)
    except InvalidToken:
        logger.error("complaint %s: its %s cannot be decrypted with any key of COMPLAINTS_PII_KEY", case.pk, what)
        return None


def _unreadable() -> Unavailable:
    return Unavailable(gettext(
        "该案件的加密信息无法解密：当前配置的密钥与数据不符，请联系系统管理员（COMPLAINTS_PII_KEY）。"))


def masked_identity(case: Complaint) -> Identity | None:
    """黄某 / 138****5678 for a named case; None when anonymous or erased; （无法解密） when no key opens it."""
    if case.anonymous or case.pii_erased_at or not case.contact_name_enc:
        return None
    name = _decrypted(case, case.contact_name_enc, "name")
    phone = _decrypted(case, case.contact_phone_enc, "phone")
    unreadable = gettext("（无法解密）")
    return Identity(name=unreadable if name is None else rules.mask_person(name),
                    phone=unreadable if phone is None else rules.mask_phone(phone))


def reveal_identity(case: Complaint, actor, reason: str) -> Identity:
    """The complainant's name and phone for the finance center, logged with the reason."""
    if rules.FINANCE_CENTER not in selectors.case_sides(actor, case):
        raise ServiceError(gettext("只有区金融工作中心可以查看反映人身份。"), forbidden=True)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(gettext("查看反映人身份须填写理由。"), field="reason")
    if case.anonymous:
        raise ServiceError(gettext("匿名反映没有身份信息。"), conflict=True)
    if case.pii_erased_at:
        raise ServiceError(gettext("该案件的个人信息已按保存期限清除。"), conflict=True)
    name = _decrypted(case, case.contact_name_enc, "name")
    phone = _decrypted(case, case.contact_phone_enc, "phone")
    if name is None or phone is None:
        raise _unreadable()
    PiiReveal.objects.create(complaint=case, user=actor, reason=reason[:1000])
    return Identity(name=name, phone=phone)


def release_original(image: EvidenceImage, actor, reason: str) -> bytes:
    """A sealed original (the photo as uploaded, with its metadata and GPS) for the finance center,
    released only with a reason and logged like an identity reveal (PiiReveal with the image)."""
    case = image.complaint
    if rules.FINANCE_CENTER not in selectors.case_sides(actor, case):
        raise ServiceError(gettext("只有区金融工作中心可以下载封存原件。"), forbidden=True)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(gettext("下载封存原件须填写理由。"), field="reason")
    if not image.sealed_original:
        raise ServiceError(gettext("该图片的封存原件已按保存期限清除。"), conflict=True)
    with image.sealed_original.open("rb") as handle:
        try:
            data = decrypt_bytes(handle.read())
        except InvalidToken:
            logger.error("complaint %s: sealed original %s cannot be decrypted with any key of COMPLAINTS_PII_KEY",
                         case.pk, image.position)
            raise _unreadable() from None
    PiiReveal.objects.create(complaint=case, user=actor, reason=reason[:1000], image_position=image.position)
    return data


# --- what a district publishes --------------------------------------------------------------


def set_blacklist_publication(user, district_code: str, publish: bool):
    """The district's finance center chooses whether its confirmed blacklist (names masked) is listed
    by the public blacklist API (API.md "Warnings"; off by default). Another district: NotFound."""
    from core.errors import NotAllowed
    from institutions import access
    from institutions.models import District

    if not access.is_finance_center(user):
        raise NotAllowed(gettext("只有区金融工作中心可以设置黑名单是否公开。"))
    district = access.resolve_district(user, district_code, roles=(Role.FINANCE_CENTER,))
    with transaction.atomic():
        district = District.objects.select_for_update().get(pk=district.pk)
        if district.publish_blacklist == publish:
            raise ServiceError(gettext("黑名单已公开。") if publish else gettext("黑名单未公开。"), conflict=True)
        district.publish_blacklist = publish
        district.save(update_fields=["publish_blacklist"])
    logger.info("complaints: %s %s the blacklist of %s", user, "published" if publish else "withdrew", district.code)
    return district


# --- public codes ---------------------------------------------------------------------------


@transaction.atomic
def regenerate_public_code(institution: Institution, actor=None) -> str:
    """Give the institution a new code; the old one keeps opening a "replaced" page."""
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    RetiredPublicCode.objects.create(code=institution.public_code, institution=institution, retired_by=actor)
    selectors.clear_code_cache()
    institution.public_code = new_public_code()
    institution.save(update_fields=["public_code", "updated_at"])
    return institution.public_code


# --- retention ------------------------------------------------------------------------------


def erase_expired_personal_data(now=None, *, days: int | None = None) -> int:
    """Erase name, phone and sealed originals of cases closed more than `days` ago. Idempotent."""
    now = now or timezone.now()
    days = settings.COMPLAINTS_PII_RETENTION_DAYS if days is None else days
    cutoff = now - timedelta(days=days)
    erased = 0
    ids = list(Complaint.objects.filter(status__in=rules.FINAL_STATES, closed_at__lt=cutoff,
                                        pii_erased_at__isnull=True).values_list("pk", flat=True)[:5000])
    storage = EvidenceImage._meta.get_field("sealed_original").storage
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        with transaction.atomic():
            images = list(EvidenceImage.objects.filter(complaint_id__in=chunk).exclude(sealed_original=""))
            names = [i.sealed_original.name for i in images]
            EvidenceImage.objects.filter(pk__in=[i.pk for i in images]).update(sealed_original="")
            erased += Complaint.objects.filter(pk__in=chunk, pii_erased_at__isnull=True).update(
                contact_name_enc="", contact_phone_enc="", pii_erased_at=now)
            transaction.on_commit(lambda names=names: [storage.delete(n) for n in names])
    return erased


# --- notifications (outbox) -----------------------------------------------------------------


_next_enqueue = 0.0


def enqueue_notifications() -> None:
    """Ask a worker to send pending notifications. Never raises: with the broker down the rows
    wait in the outbox and the beat job (or the next case) sends them once it is back.

    With a broker, at most one send is queued per process every COMPLAINTS_NOTIFY_BATCH_SECONDS,
    so a burst of cases costs one message instead of one per case; rows committed in between go
    out with the next queued send or the beat job's run (every minute). No ETA/countdown: a worker
    holding delayed messages when Redis goes away does not survive the reconnection (kombu).
    """
    global _next_enqueue
    from . import tasks

    task = tasks.send_pending_notifications
    window = settings.COMPLAINTS_NOTIFY_BATCH_SECONDS
    batched = window > 0 and not task.app.conf.task_always_eager
    if batched:
        now = time.monotonic()
        if now < _next_enqueue:
            return
        _next_enqueue = now + window
    try:
        queue.publish(task)  # with the broker unreachable: stored for core's drain
    except Exception as exc:  # an eager run failed; the outbox keeps everything
        logger.warning("complaints: could not queue notifications (%s); they stay in the outbox", exc)


def _emails(users) -> list[str]:
    return sorted({u.email for u in users if u.email})


def _district_staff(role: str, district_id: int, *, administrators: bool = False) -> QuerySet:
    """Active users with an email address who hold `role` in this district (and the installation
    administrators, when asked): nobody of another district hears of a case."""
    granted = Q(district_grants__role=role, district_grants__district_id=district_id)
    if administrators:
        granted |= Q(is_superuser=True)
    return get_user_model().objects.filter(granted, is_active=True).exclude(email="").distinct()


def _recipients(notification: Notification) -> list[str]:
    User = get_user_model()
    case = notification.complaint
    district_id = case.institution.district_id
    active = User.objects.filter(is_active=True).exclude(email="")
    finance = _district_staff(Role.FINANCE_CENTER, district_id, administrators=True)
    discipline = _district_staff(Role.DISCIPLINE, district_id)
    heads = active.filter(memberships__institution_id=case.institution_id,
                          memberships__role=Role.INSTITUTION_HEAD).distinct()
    kind = notification.kind
    if kind == Notification.Kind.FORWARDED:
        return _emails(discipline)
    if kind == Notification.Kind.REFERRED:
        return _emails(heads)
    if kind in (Notification.Kind.DUE_SOON, Notification.Kind.OVERDUE):
        if case.status == rules.FORWARDED:
            return _emails(discipline)
        handlers = [case.assignee] if case.assignee_id and case.assignee.is_active else list(finance)
        if case.status == rules.REFERRED:
            handlers += list(heads)
        return _emails(handlers)
    return _emails(finance)


def send_new_case_digest(limit: int = 500) -> int:
    """Hand core's mail outbox one mail to each district's finance center listing the cases of its
    district received since the last one; returns how many cases it covered. Idempotent: a case is
    marked in the same transaction as its district's mail is enqueued; cases locked by a concurrent
    run are skipped. The outbox sends, retries and keeps failures."""
    with transaction.atomic():
        cases = list(Complaint.objects.select_for_update(skip_locked=True, of=("self",))
                     .filter(staff_notified_at__isnull=True).select_related("institution")
                     .order_by("received_at", "id")[:limit])
        by_district: dict[int, list[Complaint]] = {}
        for case in cases:
            by_district.setdefault(case.institution.district_id, []).append(case)
        mails: list[outbox.Mail] = []
        for district_id, group in by_district.items():
            recipients = _emails(_district_staff(Role.FINANCE_CENTER, district_id, administrators=True))
            if len(group) == 1:
                case = group[0]
                subject = gettext("新{kind}：{institution}（#{pk}）").format(
                    kind=case.get_kind_display(), institution=case.institution.name, pk=case.pk)
                body = _notification_body(case, gettext("收到新的反映，请在期限内处理。"))
            else:
                subject = gettext("新收到 {n} 件举报投诉（#{pk} 等）").format(n=len(group), pk=group[0].pk)
                body = gettext("收到新的反映，请在期限内处理：\n\n") + "\n\n".join(
                    _notification_body(case, "").strip() for case in group)
            mails.append(outbox.Mail(key=f"complaints:digest:{district_id}:{group[0].pk}", recipients=recipients,
                                     subject=subject, body=body, kind="complaints.digest"))
        outbox.enqueue_many(mails)
        if cases:
            Complaint.objects.filter(pk__in=[c.pk for c in cases]).update(staff_notified_at=timezone.now())
    return len(cases)


def send_pending_notifications(limit: int = 200) -> int:
    """Hand what waits to core's mail outbox: the new-case digest, then reminders and hand-overs,
    each with its recipients resolved now (key "complaints:notification:<id>"). Idempotent; returns
    how many cases and notifications were handed over. The outbox sends them right after the commit
    (and retries them); the case keeps the record of who was told and when."""
    handed = send_new_case_digest()
    with transaction.atomic():
        batch = list(Notification.objects.select_for_update(skip_locked=True, of=("self",))
                     .filter(notified_at__isnull=True)
                     .select_related("complaint", "complaint__assignee", "complaint__institution")
                     .order_by("created_at")[:limit])
        now = timezone.now()
        mails: list[outbox.Mail] = []
        for notification in batch:
            notification.recipients = _recipients(notification)
            notification.notified_at = now
            mails.append(outbox.Mail(key=notification.mail_key, recipients=notification.recipients,
                                     subject=notification.subject, body=notification.body,
                                     kind=f"complaints.{notification.kind}"))
        outbox.enqueue_many(mails)
        Notification.objects.bulk_update(batch, ["recipients", "notified_at"])
    return handed + len(batch)


def create_due_reminders(today: date | None = None) -> int:
    """Flag cases due soon and overdue: one reminder per case, deadline and day. Idempotent."""
    today = today or timezone.localdate()
    soon = settings.COMPLAINTS_DUE_SOON_DAYS
    new = []
    for case in selectors.due_reminder_candidates(today, soon).iterator(chunk_size=500):
        overdue = case.next_due_on < today
        kind = Notification.Kind.OVERDUE if overdue else Notification.Kind.DUE_SOON
        label = rules.DEADLINE_LABELS.get(case.next_due_key, case.next_due_key)
        message = (gettext("已超过“{label}”期限（{due_on:%Y-%m-%d}），请尽快办理。").format(
            label=label, due_on=case.next_due_on) if overdue
                   else gettext("“{label}”期限将于 {due_on:%Y-%m-%d} 到期。").format(
                       label=label, due_on=case.next_due_on))
        new.append(Notification(
            complaint=case, kind=kind,
            # Due soon: once per deadline; overdue: once a day until it is handled.
            dedupe_key=(f"overdue:{case.pk}:{case.next_due_key}:{today.isoformat()}" if overdue
                        else f"soon:{case.pk}:{case.next_due_key}:{case.next_due_on.isoformat()}"),
            subject=f"{kind.label}：#{case.pk} {case.institution.name}",
            body=_notification_body(case, message)))
    existing = set(Notification.objects.filter(dedupe_key__in=[n.dedupe_key for n in new])
                   .values_list("dedupe_key", flat=True))
    new = [n for n in new if n.dedupe_key not in existing]
    # ignore_conflicts: two overlapping runs may race; the unique key keeps one row per reminder.
    with transaction.atomic():
        Notification.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
        _remind_by_channels(new, today)
    if new:
        transaction.on_commit(enqueue_notifications)
    return len(new)


def _remind_by_channels(new: list[Notification], today: date) -> int:
    """The finance center's officers (their phones, as their preferences say) and robots hear, per
    district, how many cases this run newly found due soon or overdue and the earliest date: a count
    and a date only — no case text, no institution, never the complainant. Keyed by the reminders
    themselves, so a second run (which creates none) sends nothing."""
    groups: dict[tuple[int, str], list[Notification]] = {}
    for n in new:
        groups.setdefault((n.complaint.institution.district_id, n.kind), []).append(n)
    stored = 0
    for (district_id, kind), group in sorted(groups.items()):
        digest = hashlib.sha256("|".join(sorted(n.dedupe_key for n in group)).encode()).hexdigest()[:16]
        users = [g.user for g in DistrictGrant.objects.filter(district_id=district_id, role=Role.FINANCE_CENTER,
                                                               user__is_active=True).select_related("user")]
        earliest = min(n.complaint.next_due_on for n in group)
        stored += notifications.notify(
            f"complaints-due:{district_id}:{kind}:{today.isoformat()}:{digest}",
            "reminder.complaints_overdue" if kind == Notification.Kind.OVERDUE else "reminder.complaints_due",
            {"count": len(group), "due": earliest.isoformat()}, users=users, user_channels=("sms",),
            district=district_id)
    return stored


# --- holidays -------------------------------------------------------------------------------


@transaction.atomic
def seed_holidays(years: Iterable[int], *, overwrite: bool = False) -> list[int]:
    """Load the `chinese_calendar` package's schedule for the years it knows into the table.

    Years already in the table are left alone (the finance center may have corrected them) unless
    `overwrite`. Returns the years written.
    """
    schedule = schedule_from_chinese_calendar(years)
    existing = set(HolidayYear.objects.filter(year__in=schedule.known_years).values_list("year", flat=True))
    written = sorted(y for y in schedule.known_years if overwrite or y not in existing)
    if not written:
        return []
    import chinese_calendar

    HolidayDate.objects.filter(year_id__in=written).delete()
    for year in written:
        HolidayYear.objects.update_or_create(  # i18n-exempt: the source, stored as data
            year=year, defaults={"source": "chinese-calendar 软件包"})
    rows = []
    for day in sorted(schedule.holidays | schedule.workdays):
        if day.year not in written:
            continue
        is_holiday = day in schedule.holidays
        _, name = chinese_calendar.get_holiday_detail(day)
        rows.append(HolidayDate(year_id=day.year, day=day,
                                kind=HolidayDate.Kind.HOLIDAY if is_holiday else HolidayDate.Kind.WORKDAY,
                                name=_HOLIDAY_NAMES.get(str(name), "") if name else ""))
    HolidayDate.objects.bulk_create(rows)
    holidays_changed()
    return written


_HOLIDAY_NAMES = {  # i18n-exempt: holiday names stored as data (HolidayDate.name)
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def remind_holiday_schedule(today: date | None = None) -> int:
    """In November and December, while the holiday table lacks next year, ask the finance center
    (and the administrators) by mail to enter next year's official schedule (国务院办公厅节假日安排):
    without it next year's deadlines count weekends only and are marked provisional. One mail a
    month (the outbox key makes it idempotent); returns how many were enqueued (0 or 1)."""
    today = today or timezone.localdate()
    if today.month not in (11, 12):
        return 0
    year = today.year + 1
    if HolidayYear.objects.filter(year=year).exists():
        return 0
    users = (get_user_model().objects.filter(Q(district_grants__role=Role.FINANCE_CENTER) | Q(is_superuser=True),
                                             is_active=True).exclude(email="").distinct())
    path = reverse("admin:complaints_holidayyear_add")
    body = gettext("节假日安排表中尚无 {year} 年的数据。\n"
                   "请在国务院办公厅公布 {year} 年部分节假日安排后，录入该年度的法定节假日和调休上班日"
                   "（节假日表由各区共用，由系统管理员在后台录入）：\n"
                   "{url}\n\n"
                   "录入前，跨入 {year} 年的办理期限只按周末推算，并标注为“暂定”；录入后系统自动重新计算。").format(
        year=year, url=f"{settings.COMPLAINTS_PUBLIC_BASE_URL}{path}")
    with transaction.atomic():
        return outbox.enqueue(f"complaints:holiday-schedule:{year}:{today.month:02d}", _emails(users),
                              gettext("请录入 {year} 年节假日安排").format(
                                  year=year), body, kind="complaints.holiday_schedule")


def holidays_changed() -> None:
    """Called after the holiday table changes: provisional due dates are recomputed after commit."""
    selectors.clear_holiday_cache()

    def _enqueue() -> None:
        from . import tasks

        try:
            queue.publish(tasks.refresh_deadlines)
        except Exception as exc:
            logger.warning("complaints: could not queue deadline refresh (%s)", exc)

    transaction.on_commit(_enqueue)


# --- questionnaires -------------------------------------------------------------------------

DEFAULT_QUESTIONS = [  # i18n-exempt: seeded into the year's questionnaire, stored as data
    (Question.Kind.RATING, "您对本次服务的总体满意程度", True, ""),
    (Question.Kind.RATING, "工作人员的服务态度", True, ""),
    (Question.Kind.RATING, "业务办理效率", True, ""),
    (Question.Kind.YES_NO, "工作人员是否做到廉洁服务，未向您索要或暗示好处、未违规收费？", True, "no"),
    (Question.Kind.YES_NO, "工作人员是否主动告知收费标准和办理流程？", False, ""),
    (Question.Kind.TEXT, "其他意见或建议（选填）", False, ""),
]


@transaction.atomic
def ensure_questionnaire(year: int) -> Questionnaire:
    """The year's questionnaire, created from last year's (or the default questions) if missing."""
    existing = Questionnaire.objects.filter(year=year).first()
    if existing:
        return existing
    previous = Questionnaire.objects.filter(year__lt=year).order_by("-year").first()
    questionnaire = Questionnaire.objects.create(  # i18n-exempt: the questionnaire's text, stored as data
        year=year, title=f"{year}年清廉金融服务满意度调查",
        intro="您的评价将帮助我们改进服务、营造清廉金融环境。问卷匿名。")
    if previous:
        source = [(q.kind, q.text, q.required, q.alarm_answer) for q in previous.questions.all()]
    else:
        source = DEFAULT_QUESTIONS
    Question.objects.bulk_create([
        Question(questionnaire=questionnaire, position=i, kind=kind, text=text, required=required, alarm_answer=alarm)
        for i, (kind, text, required, alarm) in enumerate(source, 1)
    ])
    return questionnaire


def survey_path(token: str) -> str:
    return reverse("complaints:survey-link", args=[token])


@transaction.atomic
def issue_survey_links(institution: Institution, questionnaire: Questionnaire, count: int, actor,
                       label: str = "") -> list[str]:
    """Create `count` one-time links; the tokens are returned once and only their hashes are kept."""
    if not 1 <= count <= 1000:
        raise ServiceError(gettext("一次可生成1至1000个链接。"), field="count")
    batch = SurveyBatch.objects.create(institution=institution, questionnaire=questionnaire, count=count,
                                       label=label[:100], created_by=actor)
    tokens = [new_token(16) for _ in range(count)]
    SurveyLink.objects.bulk_create([SurveyLink(batch=batch, token_hash=hash_secret(t, "survey")) for t in tokens])
    return tokens


def find_survey_link(token: str) -> SurveyLink | None:
    if not token or len(token) > 64:
        return None
    return (SurveyLink.objects.select_related("batch__institution", "batch__questionnaire")
            .filter(token_hash=hash_secret(token, "survey")).first())


@dataclass(frozen=True)
class SurveyResult:
    response: SurveyResponse
    receipt: Receipt | None


def submit_survey(questionnaire: Questionnaire, institution: Institution, answers: dict[int, str],
                  link: SurveyLink | None = None, *, submitted_at: datetime | None = None) -> SurveyResult:
    """Store a response and count it into its month's satisfaction tally, in one transaction; an alarm
    answer (e.g. "no" to the integrity question) opens a report. `submitted_at`: now unless given."""
    questions = list(questionnaire.questions.all())
    ratings = [int(answers[q.pk]) for q in questions if q.kind == Question.Kind.RATING and answers.get(q.pk)]
    alarms = [q for q in questions if q.kind == Question.Kind.YES_NO
              and rules.answer_is_alarm(answers.get(q.pk, ""), q.alarm_answer)]
    with transaction.atomic():
        if link is not None:
            # The link is spent in the same transaction; a second use finds used_at set.
            locked = SurveyLink.objects.select_for_update().get(pk=link.pk)
            if locked.used_at is not None:
                raise ServiceError(gettext("此问卷链接已使用过。"), conflict=True)
            locked.used_at = timezone.now()
            locked.save(update_fields=["used_at"])
        receipt = None
        if alarms:
            texts = [q.text for q in questions if q.kind == Question.Kind.TEXT and answers.get(q.pk)]
            description = "满意度问卷中反映：" + "；".join(  # i18n-exempt: the report's text, stored as data
                f"“{q.text}”回答“{'是' if answers[q.pk] == 'yes' else '否'}”"
                                                    for q in alarms)
            if texts:
                description += "。补充说明：" + " ".join(  # i18n-exempt: the report's text, stored as data
                    answers[q.pk] for q in questions
                                                   if q.kind == Question.Kind.TEXT and answers.get(q.pk))
            receipt = submit(Submission(institution=institution, kind="report", description=description[:2000],
                                        channel=Complaint.Channel.QUESTIONNAIRE))
        response = SurveyResponse.objects.create(
            questionnaire=questionnaire, institution=institution, link=link,
            answers={str(k): v for k, v in answers.items()},
            mean_rating=rules.mean_rating(ratings),
            satisfied=rules.is_satisfied(ratings, selectors.satisfied_threshold()),
            complaint=receipt.complaint if receipt else None, submitted_at=submitted_at or timezone.now())
        count_in_tally(response)
    return SurveyResult(response=response, receipt=receipt)


# --- satisfaction tallies -------------------------------------------------------------------
# SatisfactionTally holds, per institution and month (Asia/Shanghai) of submitted_at, how many answers
# carry a satisfaction (satisfied IS NOT NULL) and how many of them are satisfied: what the dashboards
# read instead of grouping every answer. submit_survey keeps it in step; whatever writes answers in
# bulk (demo seeders, benchmark generators, imports) calls rebuild_satisfaction_tallies afterwards,
# and beat rebuilds it nightly.


def _tally_table() -> str:
    return transaction.get_connection().ops.quote_name(SatisfactionTally._meta.db_table)


def count_in_tally(response: SurveyResponse) -> None:
    """Add one answer to its month's tally: an atomic upsert, safe when answers arrive concurrently.

    INSERT … ON CONFLICT DO UPDATE (PostgreSQL, SQLite ≥ 3.24): two transactions counting into the
    same month serialise on that row and both increments land. Call it in the answer's transaction.
    """
    if response.satisfied is None:
        return
    local = timezone.localtime(response.submitted_at, timezone.get_default_timezone())
    table = _tally_table()
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (institution_id, year, month, rated, satisfied) VALUES (%s, %s, %s, 1, %s) "  # noqa: S608
            f"ON CONFLICT (institution_id, year, month) DO UPDATE "
            f"SET rated = {table}.rated + excluded.rated, satisfied = {table}.satisfied + excluded.satisfied",
            [response.institution_id, local.year, local.month, 1 if response.satisfied else 0])


def _grouped_answers(responses: QuerySet) -> QuerySet:
    tz = timezone.get_default_timezone()
    return (responses.filter(satisfied__isnull=False)
            .annotate(y=ExtractYear("submitted_at", tzinfo=tz), m=ExtractMonth("submitted_at", tzinfo=tz))
            .values("institution_id", "y", "m")
            .annotate(n=Count("id"), s=Count("id", filter=Q(satisfied=True))).order_by())


def rebuild_satisfaction_tallies(institution_ids: Iterable[int] | None = None) -> int:
    """Recompute the tallies (of every institution, or of these) from the answers; the rows written.

    Idempotent. One transaction: delete the tallies, then one INSERT … SELECT … GROUP BY of the
    answers (year and month in TIME_ZONE, on PostgreSQL and SQLite alike). On PostgreSQL the tally
    table is first locked against writers (SHARE ROW EXCLUSIVE; readers go on): answers being counted
    by submit_survey either committed before the lock (and are read) or count themselves after the
    rebuild commits (and are not read), so none is lost or counted twice.
    """
    ids = None if institution_ids is None else sorted(set(institution_ids))
    if ids == []:
        return 0
    table = _tally_table()
    responses = SurveyResponse.objects.all()
    delete, delete_params = f"DELETE FROM {table}", []  # noqa: S608
    if ids is not None:
        responses = responses.filter(institution_id__in=ids)
        delete += f" WHERE institution_id IN ({', '.join(['%s'] * len(ids))})"
        delete_params = ids
    select, params = _grouped_answers(responses).query.sql_with_params()
    with transaction.atomic():
        connection = transaction.get_connection()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(delete, delete_params)
            cursor.execute(f"INSERT INTO {table} (institution_id, year, month, rated, satisfied) "  # noqa: S608
                           f"SELECT g.institution_id, g.y, g.m, g.n, g.s FROM ({select}) g", params)
            return max(cursor.rowcount, 0)

