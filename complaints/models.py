"""The one-code complaint intake (一码举报 / 清廉码): cases, their trail, evidence, the holiday table,
satisfaction questionnaires and the notification outbox.

Invariants live in the database (constraints below); the rules themselves live in rules.py and the
ORM work in services.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.storage import PrivateStorage
from institutions.models import Institution

DESCRIPTION_MAX = 2000


# Evidence images (working copies and sealed originals), never under MEDIA_ROOT.
evidence_storage = PrivateStorage("COMPLAINTS_EVIDENCE_ROOT", "complaints")


def _evidence_storage() -> PrivateStorage:
    return evidence_storage


# --- holidays -------------------------------------------------------------------------------


class HolidayYear(models.Model):
    """A year whose official holiday schedule (国务院办公厅节假日安排) has been entered.

    A year without a row counts weekends only, and the deadlines computed in it are provisional.
    """

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    source = models.CharField(_("来源"), max_length=200, blank=True,
                              help_text=_("如：国办发明电〔2025〕×号，或 chinese-calendar 软件包"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日安排（年度）")
        verbose_name_plural = _("节假日安排（年度）")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=2000) & Q(year__lte=2100), name="holidayyear_year_range"),
        ]

    def __str__(self) -> str:
        return _("{year}年").format(year=self.year)


class HolidayDate(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日（休息）")
        WORKDAY = "workday", _("调休上班日")

    year = models.ForeignKey(HolidayYear, verbose_name=_("年份"), on_delete=models.CASCADE, related_name="dates")
    day = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("节日"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("节假日/调休日")
        verbose_name_plural = _("节假日/调休日")
        ordering = ["day"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["holiday", "workday"]), name="holidaydate_kind_valid"),
            models.CheckConstraint(condition=Q(day__year=F("year_id")), name="holidaydate_day_in_year"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.get_kind_display()}"

    def clean(self) -> None:
        # The database refuses it too (holidaydate_day_in_year); this gives the admin a clear message.
        if self.day and self.year_id and self.day.year != self.year_id:
            from django.core.exceptions import ValidationError

            message = _("日期 %(day)s 不在 %(year)s 年内。") % {"day": self.day, "year": self.year_id}
            raise ValidationError({"day": message})


# --- complaints -----------------------------------------------------------------------------


class Kind(models.TextChoices):
    RATING = "rating", _("评价")
    SUGGESTION = "suggestion", _("意见建议")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")


class Status(models.TextChoices):
    RECEIVED = "received", _("已接收")
    ACCEPTED = "accepted", _("已受理")
    REJECTED = "rejected", _("不予受理")
    VERIFYING = "verifying", _("初核中")
    FORWARDED_DISCIPLINE = "forwarded_discipline", _("已移送区纪委监委")
    REFERRED_INSTITUTION = "referred_institution", _("已交办")
    CONCLUDED = "concluded", _("已出结论")
    CLOSED = "closed", _("已办结")
    MERGED = "merged", _("已合并办理")


class Outcome(models.TextChoices):
    SUBSTANTIATED = "substantiated", _("属实")
    PARTIALLY_SUBSTANTIATED = "partially_substantiated", _("部分属实")
    UNSUBSTANTIATED = "unsubstantiated", _("不属实")


# The conclusions the clean points count (SCORING.md step 4).
COUNTED_OUTCOMES = (Outcome.SUBSTANTIATED.value, Outcome.PARTIALLY_SUBSTANTIATED.value)


class Basis(models.TextChoices):
    """What the case's deadlines rest on (deadlines.py): the regulators' rules by kind, or the
    信访工作条例 (the finance center is a government body and may handle a case as a 信访 matter)."""

    FINANCIAL = "financial", _("金融监管规定（消费投诉处理管理办法、违法行为举报处理办法）")
    XINFANG = "xinfang", _("信访工作条例（2022）")


class ReplyState(models.TextChoices):
    """交办: where the institution's reply stands (kept in step with its tracked item, 督办事项)."""

    NONE = "", _("—")
    OPEN = "open", _("待机构回复")
    REPORTED = "reported", _("机构已回复，待审核")
    ACCEPTED = "accepted", _("回复已审核通过")


class Channel(models.TextChoices):
    FORM = "form", _("扫码表单")
    API = "api", _("接口")
    QUESTIONNAIRE = "questionnaire", _("满意度问卷")
    STAFF = "staff", _("工作人员录入")


class Complaint(models.Model):
    Kind = Kind
    Status = Status
    Outcome = Outcome
    Channel = Channel
    Basis = Basis
    ReplyState = ReplyState

    institution = models.ForeignKey(Institution, verbose_name=_("被反映机构"), on_delete=models.PROTECT,
                                    related_name="complaints")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=24, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.CharField(_("核查结论"), max_length=24, choices=Outcome.choices, blank=True)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices, default=Channel.FORM)

    description = models.TextField(_("反映内容"), blank=True)
    staff_name = models.CharField(_("涉及工作人员"), max_length=50, blank=True)
    occurred_on = models.DateField(_("发生日期"), null=True, blank=True)
    rating_attitude = models.PositiveSmallIntegerField(_("服务态度评分"), null=True, blank=True)
    rating_efficiency = models.PositiveSmallIntegerField(_("办事效率评分"), null=True, blank=True)
    rating_integrity = models.PositiveSmallIntegerField(_("廉洁自律评分"), null=True, blank=True)

    anonymous = models.BooleanField(_("匿名"), default=True)
    # Fernet tokens (see crypto.py); never plaintext, never shown unmasked without a logged reveal.
    contact_name_enc = models.TextField(_("联系人姓名（加密）"), blank=True, editable=False)
    contact_phone_enc = models.TextField(_("联系电话（加密）"), blank=True, editable=False)
    pii_erased_at = models.DateTimeField(_("个人信息清除时间"), null=True, blank=True, editable=False)

    receipt_hash = models.CharField(_("回执码摘要"), max_length=64, unique=True, editable=False)
    submission_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)

    received_at = models.DateTimeField(_("接收时间"), default=timezone.now, db_index=True)
    deadline_from = models.DateField(_("期限起算日"))
    basis = models.CharField(_("办理依据"), max_length=12, choices=Basis.choices, default=Basis.FINANCIAL)
    extensions = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    deadlines = models.JSONField(_("办理期限"), default=dict, blank=True, editable=False)
    next_due_on = models.DateField(_("最近到期日"), null=True, blank=True, db_index=True, editable=False)
    next_due_key = models.CharField(_("最近到期事项"), max_length=24, blank=True, editable=False)
    deadlines_provisional = models.BooleanField(_("期限暂定"), default=False, editable=False)

    involves_party_member = models.BooleanField(_("涉及党员"), default=False)
    # The day the involvement of a party member was identified: the 5 working days to forward the
    # case to the discipline commission run from it (not from receipt).
    party_identified_on = models.DateField(_("认定涉及党员日期"), null=True, blank=True)
    # 交办: the institution's reply is due this many working days after the hand-over.
    reply_within = models.PositiveSmallIntegerField(_("交办回复期限（工作日）"), null=True, blank=True)
    # The reply's due date in force (the tracked item's: a return may set a new one) and its state.
    reply_due_on = models.DateField(_("机构回复期限"), null=True, blank=True)
    reply_state = models.CharField(_("机构回复"), max_length=10, choices=ReplyState.choices, blank=True, default="")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("承办人"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_complaints")
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("不予受理时间"), null=True, blank=True)
    reject_reason = models.TextField(_("不予受理理由"), blank=True)
    verifying_at = models.DateTimeField(_("初核时间"), null=True, blank=True)
    forwarded_at = models.DateTimeField(_("移送区纪委监委时间"), null=True, blank=True)
    referred_at = models.DateTimeField(_("交办时间"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("结论时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    merged_into = models.ForeignKey("self", verbose_name=_("合并至"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="merged_cases")
    converted_from_rating = models.BooleanField(_("由评价转为举报"), default=False)
    # The case row is its own outbox entry for the "new case" mail: NULL until a digest mentioned it.
    staff_notified_at = models.DateTimeField(_("已通知工作人员"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("举报投诉")
        verbose_name_plural = _("举报投诉")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_due_on"], name="complaint_status_due"),
            models.Index(fields=["institution", "received_at"], name="complaint_inst_received"),
            models.Index(fields=["kind", "received_at"], name="complaint_kind_received"),
            models.Index(fields=["received_at"], condition=Q(staff_notified_at__isnull=True),
                         name="complaint_not_yet_notified"),
            # the work list's order (next due first, none last: PostgreSQL's ascending order), read
            # from the top for a page instead of sorting a district's cases (0.2 s for 200,000)
            models.Index(fields=["next_due_on", "-received_at", "-id"], condition=~Q(status="merged"),
                         name="complaint_worklist_order"),
            # conclusions that count in the clean points (substantiated or partially), by time: the
            # re-aggregation of changes finds the few since its last run among 200,000 cases
            models.Index(fields=["concluded_at"], condition=Q(outcome__in=list(COUNTED_OUTCOMES)),
                         name="complaint_counted_conclusion"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="complaint_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="complaint_status_valid"),
            models.CheckConstraint(condition=Q(outcome__in=[*Outcome.values, ""]), name="complaint_outcome_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="complaint_channel_valid"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("description"), DESCRIPTION_MAX), name="complaint_description_max"
            ),
            # A complaint or a report says what happened.
            models.CheckConstraint(
                condition=~Q(kind__in=["complaint", "report"]) | ~Q(description=""),
                name="complaint_description_required",
            ),
            # Concluded cases (and closed ones that were concluded) carry an outcome; nothing else does.
            models.CheckConstraint(condition=~Q(status="concluded") | ~Q(outcome=""),
                                   name="complaint_concluded_outcome"),
            models.CheckConstraint(condition=Q(outcome="") | Q(status__in=["concluded", "closed"]),
                                   name="complaint_outcome_only_when_concluded"),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(reject_reason=""),
                                   name="complaint_rejected_has_reason"),
            models.CheckConstraint(condition=(Q(status="merged") & Q(merged_into__isnull=False))
                                   | (~Q(status="merged") & Q(merged_into__isnull=True)),
                                   name="complaint_merged_has_target"),
            models.CheckConstraint(condition=~Q(merged_into=F("pk")), name="complaint_not_merged_into_self"),
            models.CheckConstraint(condition=Q(extensions__lte=2), name="complaint_extensions_max"),
            models.CheckConstraint(condition=Q(basis__in=Basis.values), name="complaint_basis_valid"),
            models.CheckConstraint(condition=Q(basis="financial") | Q(extensions__lte=1),
                                   name="complaint_xinfang_extensions_max"),
            models.CheckConstraint(condition=~Q(involves_party_member=False) | Q(party_identified_on__isnull=True),
                                   name="complaint_identified_only_when_involved"),
            models.CheckConstraint(condition=Q(reply_within__isnull=True)
                                   | (Q(reply_within__gte=1) & Q(reply_within__lte=60)),
                                   name="complaint_reply_within_range"),
            models.CheckConstraint(condition=Q(referred_at__isnull=True) | Q(reply_within__isnull=False),
                                   name="complaint_referred_has_reply_within"),
            models.CheckConstraint(condition=Q(reply_state__in=ReplyState.values), name="complaint_reply_state_valid"),
            models.CheckConstraint(condition=Q(reply_state="") | Q(referred_at__isnull=False),
                                   name="complaint_reply_state_only_when_referred"),
            models.CheckConstraint(condition=~Q(kind="rating") | Q(extensions=0), name="complaint_rating_no_extension"),
            # Anonymous cases hold no identity; named ones hold it until the retention job erases it.
            models.CheckConstraint(
                condition=Q(anonymous=False) | (Q(contact_name_enc="") & Q(contact_phone_enc="")),
                name="complaint_anonymous_has_no_identity",
            ),
            models.CheckConstraint(
                condition=Q(anonymous=True) | Q(pii_erased_at__isnull=False)
                | (~Q(contact_name_enc="") & ~Q(contact_phone_enc="")),
                name="complaint_named_has_identity",
            ),
            *[
                models.CheckConstraint(condition=Q(**{f"{f}__isnull": True}) | (Q(**{f"{f}__gte": 1})
                                                                                 & Q(**{f"{f}__lte": 5})),
                                       name=f"complaint_{f}_1_5")
                for f in ("rating_attitude", "rating_efficiency", "rating_integrity")
            ],
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} · {self.institution_id}"

    @property
    def received_on(self):
        return timezone.localdate(self.received_at)

    @property
    def ratings(self) -> dict[str, int]:
        values = {"attitude": self.rating_attitude, "efficiency": self.rating_efficiency,
                  "integrity": self.rating_integrity}
        return {k: v for k, v in values.items() if v is not None}


class ComplaintEvent(models.Model):
    """Every action on a case: who, when, from which state to which, and why."""

    complaint = models.ForeignKey(Complaint, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=24, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    reason = models.TextField(_("理由/说明"), blank=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["complaint", "at"], name="complaintevent_case_at")]

    def __str__(self) -> str:
        return f"{self.action} {self.from_status}→{self.to_status}"


class ComplaintExtension(models.Model):
    """A recorded extension of a case's period: the new date and the reason are shown to the
    complainant on the tracking page; the approval (who approved, document number) stays internal."""

    complaint = models.ForeignKey(Complaint, verbose_name=_("案件"), on_delete=models.CASCADE,
                                  related_name="extension_records")
    number = models.PositiveSmallIntegerField(_("第几次延期"))
    deadline_key = models.CharField(_("延长的期限"), max_length=24)
    previous_due_on = models.DateField(_("原期限"), null=True, blank=True)
    new_due_on = models.DateField(_("延长后期限"))
    reason = models.TextField(_("延期理由（向反映人公开）"))
    approval = models.CharField(_("审批情况（内部）"), max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("延期记录")
        verbose_name_plural = _("延期记录")
        ordering = ["complaint", "number"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "number"], name="complaintextension_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1) & Q(number__lte=2), name="complaintextension_number_1_2"),
            models.CheckConstraint(condition=~Q(reason=""), name="complaintextension_reason_not_blank"),
            models.CheckConstraint(condition=Q(deadline_key__in=["decide", "conclude"]),
                                   name="complaintextension_key_valid"),
        ]

    def __str__(self) -> str:
        return _("#{complaint_id} 第{number}次延期 → {new_due_on:%Y-%m-%d}").format(
            complaint_id=self.complaint_id, number=self.number, new_due_on=self.new_due_on)


class ComplaintNote(models.Model):
    """An internal note (never public) or a public reply (shown on the tracking page)."""

    class AuthorSide(models.TextChoices):
        FINANCE_CENTER = "finance_center", _("区金融工作中心")
        DISCIPLINE = "discipline", _("区纪委监委")
        INSTITUTION = "institution", _("被反映机构")

    complaint = models.ForeignKey(Complaint, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("作者"), on_delete=models.PROTECT,
                               related_name="+")
    author_side = models.CharField(_("作者单位"), max_length=16, choices=AuthorSide.choices)
    body = models.TextField(_("内容"))
    is_public = models.BooleanField(_("公开答复"), default=False)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("办理意见/答复")
        verbose_name_plural = _("办理意见/答复")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="complaintnote_body_not_blank"),
            models.CheckConstraint(condition=Q(author_side__in=["finance_center", "discipline", "institution"]),
                                   name="complaintnote_side_valid"),
            # Only the finance center replies to the public.
            models.CheckConstraint(condition=Q(is_public=False) | Q(author_side="finance_center"),
                                   name="complaintnote_public_by_finance_center"),
        ]

    def __str__(self) -> str:
        return self.body[:30]


class EvidenceImage(models.Model):
    """An uploaded photo: a re-encoded working copy without EXIF/GPS, and the sealed original."""

    complaint = models.ForeignKey(Complaint, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField(_("序号"))
    working = models.FileField(_("图片（已去除元数据）"), storage=_evidence_storage, upload_to="working/%Y/%m")
    content_type = models.CharField(_("类型"), max_length=20)
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    # The original bytes, encrypted, with their SHA-256 for evidence ("sealed"); erased with the PII.
    sealed_original = models.FileField(_("封存原件（加密）"), storage=_evidence_storage, upload_to="sealed/%Y/%m",
                                       blank=True)
    original_sha256 = models.CharField(_("原件 SHA-256"), max_length=64)
    original_size = models.PositiveIntegerField(_("原件大小（字节）"))
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("证据图片")
        verbose_name_plural = _("证据图片")
        ordering = ["complaint", "position"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "position"], name="evidence_position_unique"),
            # At most three images per case, enforced by the database as well as the form.
            models.CheckConstraint(condition=Q(position__gte=1) & Q(position__lte=3), name="evidence_at_most_three"),
            models.CheckConstraint(condition=Q(content_type__in=["image/jpeg", "image/png", "image/webp"]),
                                   name="evidence_content_type_valid"),
        ]

    def __str__(self) -> str:
        return f"#{self.complaint_id}-{self.position}"


class PiiReveal(models.Model):
    """Every time the finance center looks at a complainant's name and phone, or downloads a sealed
    original (image_position), with the reason."""

    complaint = models.ForeignKey(Complaint, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="reveals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("查看人"), on_delete=models.PROTECT,
                             related_name="+")
    reason = models.TextField(_("查看理由"))
    # Empty: the complainant's name and phone; a number: that evidence image's sealed original.
    image_position = models.PositiveSmallIntegerField(_("封存原件（图片序号）"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-at"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="piireveal_reason_not_blank")]

    def __str__(self) -> str:
        return f"{self.user} · #{self.complaint_id}"


class Notification(models.Model):
    """The case-level record of a notification: what the case's people were told and when.

    Written in the same transaction as the case's change (so a case is never lost with the broker
    down); `services.send_pending_notifications` (Celery, and beat every minute) resolves its
    recipients and hands it to core's mail outbox (key "complaints:notification:<id>"), which does the
    sending, the retries and keeps the failures.
    """

    class Kind(models.TextChoices):
        NEW_CASE = "new_case", _("新案件")
        DUE_SOON = "due_soon", _("即将到期")
        OVERDUE = "overdue", _("已超期")
        FORWARDED = "forwarded", _("移送区纪委监委")
        REFERRED = "referred", _("交办")

    complaint = models.ForeignKey(Complaint, verbose_name=_("案件"), on_delete=models.CASCADE,
                                  related_name="notifications")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    dedupe_key = models.CharField(max_length=120, unique=True)
    recipients = models.JSONField(_("收件人"), default=list)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    notified_at = models.DateTimeField(_("通知时间"), null=True, blank=True,
                                       help_text=_("交由外发邮件队列发送的时间"))

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["notified_at", "created_at"], name="notification_pending")]

    def __str__(self) -> str:
        return self.subject

    @property
    def mail_key(self) -> str:
        """The key of its mail in core's outbox."""
        return f"complaints:notification:{self.pk}"


class RetiredPublicCode(models.Model):
    """A public code that was replaced: its QR code still opens a friendly page naming the institution."""

    code = models.CharField(_("原公开码"), max_length=32, unique=True)
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="retired_public_codes")
    retired_at = models.DateTimeField(_("作废时间"), default=timezone.now)
    retired_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("已作废公开码")
        verbose_name_plural = _("已作废公开码")
        ordering = ["-retired_at"]

    def __str__(self) -> str:
        return f"{self.institution_id} · {self.retired_at:%Y-%m-%d}"


class InstitutionPoster(Institution):
    """The registry's institutions seen from the complaint intake: QR codes and posters in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("清廉码与海报")
        verbose_name_plural = _("清廉码与海报")


# --- satisfaction questionnaires (清廉码) ------------------------------------------------------


class Questionnaire(models.Model):
    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    title = models.CharField(_("标题"), max_length=100)
    intro = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("满意度问卷")
        verbose_name_plural = _("满意度问卷")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} {self.title}"


class Question(models.Model):
    class Kind(models.TextChoices):
        RATING = "rating", _("评分（1–5）")
        YES_NO = "yes_no", _("是/否")
        TEXT = "text", _("文字")

    questionnaire = models.ForeignKey(Questionnaire, verbose_name=_("问卷"), on_delete=models.CASCADE,
                                      related_name="questions")
    position = models.PositiveSmallIntegerField(_("序号"))
    kind = models.CharField(_("题型"), max_length=8, choices=Kind.choices)
    text = models.CharField(_("题目"), max_length=200)
    required = models.BooleanField(_("必答"), default=True)
    # For yes/no integrity questions: this answer opens a misconduct report automatically.
    alarm_answer = models.CharField(_("触发举报的回答"), max_length=3, blank=True,
                                    choices=[("yes", _("是")), ("no", _("否"))])

    class Meta:
        verbose_name = _("问题")
        verbose_name_plural = _("问题")
        ordering = ["questionnaire", "position"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "position"], name="question_position_unique"),
            models.CheckConstraint(condition=Q(kind__in=["rating", "yes_no", "text"]), name="question_kind_valid"),
            models.CheckConstraint(condition=Q(alarm_answer="") | Q(kind="yes_no"), name="question_alarm_only_yes_no"),
        ]

    def __str__(self) -> str:
        return self.text


class SurveyBatch(models.Model):
    """One bulk issue of one-time questionnaire links by an institution."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="survey_batches")
    questionnaire = models.ForeignKey(Questionnaire, verbose_name=_("问卷"), on_delete=models.PROTECT,
                                      related_name="batches")
    label = models.CharField(_("用途说明"), max_length=100, blank=True)
    count = models.PositiveIntegerField(_("链接数"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("生成人"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)

    class Meta:
        verbose_name = _("问卷链接批次")
        verbose_name_plural = _("问卷链接批次")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(count__gte=1) & Q(count__lte=1000),
                                              name="surveybatch_count_range")]

    def __str__(self) -> str:
        return f"{self.institution_id} · {self.count}"


class SurveyLink(models.Model):
    """A one-time questionnaire link; only the hash of its token is stored."""

    batch = models.ForeignKey(SurveyBatch, verbose_name=_("批次"), on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("一次性问卷链接")
        verbose_name_plural = _("一次性问卷链接")

    def __str__(self) -> str:
        return f"{self.batch_id} · {_('已使用') if self.used_at else _('未使用')}"


class SurveyResponse(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, verbose_name=_("问卷"), on_delete=models.PROTECT,
                                      related_name="responses")
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="survey_responses")
    link = models.OneToOneField(SurveyLink, verbose_name=_("链接"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="response")
    answers = models.JSONField(_("回答"), default=dict)
    mean_rating = models.DecimalField(_("平均评分"), max_digits=3, decimal_places=2, null=True, blank=True)
    satisfied = models.BooleanField(_("满意"), null=True)
    complaint = models.OneToOneField(Complaint, verbose_name=_("自动生成的举报"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="survey_response")
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("问卷答复")
        verbose_name_plural = _("问卷答复")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["institution", "submitted_at"], name="surveyresponse_inst_at")]
        constraints = [
            models.CheckConstraint(condition=Q(satisfied__isnull=True) | Q(mean_rating__isnull=False),
                                   name="surveyresponse_satisfied_has_rating"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} · {self.submitted_at:%Y-%m-%d}"


class SatisfactionTally(models.Model):
    """Questionnaire answers counted per institution and month of `submitted_at` (Asia/Shanghai).

    What the dashboards read instead of grouping every answer: `rated` counts the answers with a
    satisfaction (satisfied IS NOT NULL), `satisfied` those that were satisfied. Kept in step by
    services.submit_survey (an upsert in the answer's own transaction) and recomputed from the answers
    by services.rebuild_satisfaction_tallies (after bulk loads, and nightly by beat).
    """

    # No index of its own: the unique (institution, year, month) constraint's index starts with it.
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="satisfaction_tallies", db_index=False)
    year = models.PositiveSmallIntegerField(_("年份"))
    month = models.PositiveSmallIntegerField(_("月份"))
    rated = models.PositiveIntegerField(_("参评答复数"), default=0)
    satisfied = models.PositiveIntegerField(_("满意答复数"), default=0)

    class Meta:
        verbose_name = _("满意度月度汇总")
        verbose_name_plural = _("满意度月度汇总")
        ordering = ["institution", "year", "month"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "year", "month"], name="satisfactiontally_inst_month"),
            models.CheckConstraint(condition=Q(month__gte=1) & Q(month__lte=12), name="satisfactiontally_month_1_12"),
            models.CheckConstraint(condition=Q(satisfied__lte=F("rated")),
                                   name="satisfactiontally_satisfied_le_rated"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} · {self.year}-{self.month:02d}"


class ComplaintTally(models.Model):
    """Cases counted per institution, month of receipt (Asia/Shanghai), kind and outcome: what the
    statistics and the dashboards read instead of grouping the year's cases (issue 16: a province's
    200,000 wide case rows scanned on every request).

    One row holds the figures of rules.TallyShare summed over its cases (merged duplicates left
    out). Kept in step by the services in the same transaction as the change to a case (an atomic
    upsert of the difference, tallies.record), and recomputed from the cases by
    tallies.rebuild_complaint_tallies after bulk loads, nightly by beat, and after
    COMPLAINTS_SATISFIED_THRESHOLD changes. A row whose cases all left it stays with zeros.
    """

    # No index of its own: the unique constraint's index starts with it.
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="complaint_tallies", db_index=False)
    year = models.PositiveSmallIntegerField(_("年份"))
    month = models.PositiveSmallIntegerField(_("月份"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    outcome = models.CharField(_("核查结论"), max_length=24, choices=Outcome.choices, blank=True)
    cases = models.PositiveIntegerField(_("件数"), default=0)
    timed = models.PositiveIntegerField(_("已作结论件数"), default=0)
    handling_days = models.PositiveIntegerField(_("办理天数合计"), default=0)
    on_time = models.PositiveIntegerField(_("按期作出结论件数"), default=0)
    rated = models.PositiveIntegerField(_("参评评价数"), default=0)
    satisfied = models.PositiveIntegerField(_("满意评价数"), default=0)
    scored = models.PositiveIntegerField(_("三项评分齐全件数"), default=0)
    score_sum = models.PositiveIntegerField(_("三项评分合计"), default=0)

    class Meta:
        verbose_name = _("举报投诉月度汇总")
        verbose_name_plural = _("举报投诉月度汇总")
        ordering = ["institution", "year", "month", "kind", "outcome"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "year", "month", "kind", "outcome"],
                                    name="complainttally_bucket"),
            models.CheckConstraint(condition=Q(month__gte=1) & Q(month__lte=12), name="complainttally_month_1_12"),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="complainttally_kind_valid"),
            models.CheckConstraint(condition=Q(outcome__in=[*Outcome.values, ""]), name="complainttally_outcome_valid"),
        ]
        indexes = [
            # the year's rows of every institution (a province's statistics): read without the
            # institution-led unique index
            models.Index(fields=["year", "month"], name="complainttally_year_month"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} · {self.year}-{self.month:02d} · {self.kind} · {self.outcome or '-'}"
