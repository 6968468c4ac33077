"""Warnings (警示信息) pushed to employees, and one delivery per employee in scope.

The original title and body are stored as written; names are masked when shown (see core/masking.py
and presentation.py), so only the finance center ever sees them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from institutions.models import InstitutionCategory


class CaseType(models.TextChoices):
    DRUNK_DRIVING = "drunk_driving", _("酒驾醉驾")
    GIFTS = "gifts", _("收受礼品礼金")
    BRIBERY = "bribery", _("贪污受贿")
    IMPROPER_LENDING = "improper_lending", _("违规放贷")
    MISAPPROPRIATION = "misappropriation", _("挪用资金")
    ILLEGAL_FEES = "illegal_fees", _("吃拿卡要、违规收费")
    PRIVATE_LENDING = "private_lending", _("参与民间借贷")
    GAMBLING = "gambling", _("涉赌涉毒")
    MISCONDUCT = "misconduct", _("违反工作纪律")
    OTHER = "other", _("其他")


class Severity(models.TextChoices):
    LOW = "low", _("一般")
    MEDIUM = "medium", _("较重")
    HIGH = "high", _("严重")


class Scope(models.TextChoices):
    DISTRICT = "district", _("全区")
    CATEGORY = "category", _("某类机构")
    INSTITUTION = "institution", _("单个机构")


class Warning(models.Model):
    CaseType = CaseType
    Severity = Severity
    Scope = Scope

    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    case_type = models.CharField(_("案件类型"), max_length=32, choices=CaseType.choices, default=CaseType.OTHER)
    severity = models.CharField(_("严重程度"), max_length=16, choices=Severity.choices, default=Severity.MEDIUM)
    scope = models.CharField(_("发布范围"), max_length=16, choices=Scope.choices)
    district = models.ForeignKey("institutions.District", verbose_name=_("所属区县"), on_delete=models.PROTECT,
                                 related_name="warnings")
    category = models.CharField(_("机构类别"), max_length=20, choices=InstitutionCategory.choices, blank=True)
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="warnings")
    names = models.JSONField(_("涉及人员姓名"), default=list, blank=True,
                             help_text=_("文中人员的真实姓名，对区金融工作中心以外的人一律显示为“黄某”。"))
    is_public = models.BooleanField(_("对外公开"), default=False)
    publisher = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发布人"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="published_warnings")
    issuer = models.CharField(_("发布单位"), max_length=100, blank=True)
    publish_at = models.DateTimeField(_("发布时间"), default=timezone.now, db_index=True,
                                      help_text=_("晚于当前时间即为定时发布。"))
    fanned_out_at = models.DateTimeField(_("送达时间"), null=True, blank=True, editable=False)
    recipients = models.PositiveIntegerField(_("送达人数"), default=0, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("警示信息")
        verbose_name_plural = _("警示信息")
        ordering = ["-publish_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="warning_title_not_blank"),
            models.CheckConstraint(condition=~Q(body=""), name="warning_body_not_blank"),
            models.CheckConstraint(condition=Q(case_type__in=CaseType.values), name="warning_case_type_valid"),
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="warning_severity_valid"),
            # The scope names exactly one target: the district, one category of it, or one institution.
            models.CheckConstraint(
                condition=(
                    Q(scope=Scope.DISTRICT, category="", institution__isnull=True)
                    | Q(scope=Scope.CATEGORY, category__in=InstitutionCategory.values, institution__isnull=True)
                    | Q(scope=Scope.INSTITUTION, category="", institution__isnull=False)
                ),
                name="warning_scope_target",
            ),
        ]
        indexes = [
            models.Index(fields=["is_public", "-publish_at"], name="warning_public_idx"),
            models.Index(fields=["fanned_out_at", "publish_at"], name="warning_due_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One warning delivered to one employee: read when opened, acknowledged on 已阅知悉."""

    # Single-column indexes are left out where a composite index below already leads with the
    # column: every index slows the fan-out's bulk insert.
    warning = models.ForeignKey(Warning, verbose_name=_("警示信息"), on_delete=models.CASCADE,
                                related_name="deliveries", db_index=False)
    employee = models.ForeignKey("institutions.Employee", verbose_name=_("员工"), on_delete=models.CASCADE,
                                 related_name="warning_deliveries", db_index=False)
    # The employee's institution when the warning reached them: rates stay true if they move.
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="warning_deliveries", db_index=False)
    delivered_at = models.DateTimeField(_("送达时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("知悉时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("最近提醒时间"), null=True, blank=True)
    reminders = models.PositiveSmallIntegerField(_("提醒次数"), default=0)

    class Meta:
        verbose_name = _("警示送达")
        verbose_name_plural = _("警示送达")
        constraints = [
            models.UniqueConstraint(fields=["warning", "employee"], name="delivery_unique_per_employee"),
            models.CheckConstraint(condition=Q(acknowledged_at__isnull=True) | Q(read_at__isnull=False),
                                   name="delivery_acknowledged_implies_read"),
        ]
        indexes = [
            models.Index(fields=["employee", "read_at"], name="delivery_employee_idx"),
            models.Index(fields=["institution", "warning"], name="delivery_inst_warning_idx"),
            models.Index(fields=["delivered_at"], condition=Q(acknowledged_at__isnull=True),
                         name="delivery_unacknowledged_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.warning_id} → {self.employee_id}"


class DeliveryTally(models.Model):
    """A warning's deliveries counted per institution: what the dashboards read instead of the deliveries.

    `acknowledged_on_time` counts acknowledgements within WARNINGS_ACKNOWLEDGE_WITHIN_DAYS days of
    delivery (acknowledged_at <= delivered_at + N days), as every other "on time" in the portal.
    Kept exact by services.py: the fan-out recomputes its warning's tallies in its own transaction,
    reading and acknowledging add 1 with UPDATE … SET n = n + 1 next to the delivery's change, and
    services.rebuild_tallies recomputes them from the deliveries (after bulk work, and nightly).
    """

    # No index of its own: the unique (warning, institution) constraint's index starts with it.
    warning = models.ForeignKey(Warning, verbose_name=_("警示信息"), on_delete=models.CASCADE,
                                related_name="tallies", db_index=False)
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="warning_tallies")
    delivered = models.PositiveIntegerField(_("送达人数"), default=0)
    read = models.PositiveIntegerField(_("已读人数"), default=0)
    acknowledged = models.PositiveIntegerField(_("已阅知悉人数"), default=0)
    acknowledged_on_time = models.PositiveIntegerField(_("按时知悉人数"), default=0)

    class Meta:
        verbose_name = _("警示送达汇总")
        verbose_name_plural = _("警示送达汇总")
        ordering = ["warning", "institution"]
        constraints = [
            models.UniqueConstraint(fields=["warning", "institution"], name="deliverytally_warning_institution"),
            models.CheckConstraint(condition=Q(read__lte=F("delivered")), name="deliverytally_read_le_delivered"),
            models.CheckConstraint(condition=Q(acknowledged__lte=F("read")),
                                   name="deliverytally_acknowledged_le_read"),
            models.CheckConstraint(condition=Q(acknowledged_on_time__lte=F("acknowledged")),
                                   name="deliverytally_on_time_le_acknowledged"),
        ]

    def __str__(self) -> str:
        return f"{self.warning_id} · {self.institution_id}"

