"""Employees' clean points (员工清廉积分), the blacklist (黑名单), portraits (清廉画像) and exemplars.

Moved out of `scoring`: the tables keep their names (`scoring_*`), so existing data stays where it is.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from institutions.models import Institution


class Module(models.TextChoices):
    CLEAN_BUILDING = "clean_building", _("清廉建设")
    PUBLICITY = "publicity", _("清廉宣传")
    STAFF_MANAGEMENT = "staff_management", _("员工管理")
    COMPLIANCE = "compliance", _("合规建设")
    DISCIPLINE = "discipline", _("纪检监察")
    KEY_TASKS = "key_tasks", _("重点工作")
    RED_LINE = "red_line", _("红线")
    BLACKLIST = "blacklist", _("黑名单")


class ViolationType(models.Model):
    """违规积分细则: district-wide types (no institution) plus each institution's own additions."""

    institution = models.ForeignKey(Institution, verbose_name=_("适用机构"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="violation_types",
                                    help_text=_("留空表示全区通用"))
    code = models.CharField(_("编码"), max_length=20)
    name = models.CharField(_("违规行为"), max_length=200)
    module = models.CharField(_("模块"), max_length=20, choices=Module.choices)
    points = models.DecimalField(_("扣分"), max_digits=5, decimal_places=1)
    is_red_line = models.BooleanField(_("红线行为"), default=False)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        db_table = "scoring_violationtype"
        verbose_name = _("违规积分细则")
        verbose_name_plural = _("违规积分细则")
        ordering = ["institution_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="violation_code_unique_in_institution"),
            models.UniqueConstraint(fields=["code"], condition=Q(institution__isnull=True),
                                    name="violation_code_unique_district_wide"),
            models.CheckConstraint(condition=Q(points__gt=0), name="violation_points_positive"),
            models.CheckConstraint(condition=Q(module__in=Module.values), name="violation_module_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}（-{self.points}）"


class RecordKind(models.TextChoices):
    DEDUCTION = "deduction", _("扣分")
    COMMENDATION = "commendation", _("加分")


class RecordSource(models.TextChoices):
    ACCOUNTING_CHECK = "accounting_check", _("会计检辅")
    CREDIT_CHECK = "credit_check", _("信贷检辅")
    AUDIT_REPORT = "audit_report", _("审计报告")
    VIOLATION_POINTS = "violation_points", _("违规积分")
    EXTERNAL = "external", _("外部数据")
    MANUAL = "manual", _("手工录入")


class PointRecord(models.Model):
    """One deduction or commendation of an employee's yearly clean points."""

    Kind = RecordKind
    Source = RecordSource

    employee = models.ForeignKey("institutions.Employee", verbose_name=_("员工"), on_delete=models.CASCADE,
                                 related_name="point_records")
    date = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=12, choices=RecordKind.choices)
    violation_type = models.ForeignKey(ViolationType, verbose_name=_("违规行为"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="records")
    module = models.CharField(_("模块"), max_length=20, choices=Module.choices)
    points = models.DecimalField(_("分值"), max_digits=5, decimal_places=1)
    is_red_line = models.BooleanField(_("红线"), default=False)
    source = models.CharField(_("来源"), max_length=20, choices=RecordSource.choices, default=RecordSource.MANUAL)
    note = models.TextField(_("说明"), blank=True)
    evidence = models.FileField(_("佐证"), upload_to="employee-points/%Y/", blank=True)
    recorder = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        db_table = "scoring_pointrecord"
        verbose_name = _("员工积分记录")
        verbose_name_plural = _("员工积分记录")
        permissions = [("import_pointrecord", _("可从文件导入员工积分记录"))]
        ordering = ["-date", "-pk"]
        indexes = [
            models.Index(fields=["employee", "date"]),
            # the lists' order (newest first): the admin's first page of a province's records is read
            # from the top of this index, not sorted from every record (170 ms); also the date
            # hierarchy's first and last dates
            models.Index(fields=["-date", "-id"], name="pointrecord_newest_first"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="record_points_positive"),
            models.CheckConstraint(condition=Q(kind__in=RecordKind.values), name="record_kind_valid"),
            models.CheckConstraint(condition=Q(module__in=Module.values), name="record_module_valid"),
            models.CheckConstraint(condition=Q(source__in=RecordSource.values), name="record_source_valid"),
            models.CheckConstraint(condition=~Q(kind=RecordKind.COMMENDATION, is_red_line=True),
                                   name="record_commendation_not_red_line"),
        ]

    def __str__(self) -> str:
        sign = "+" if self.kind == RecordKind.COMMENDATION else "-"
        return f"{self.employee} {self.date} {sign}{self.points}"

    def audit_repr(self) -> str:
        sign = "+" if self.kind == RecordKind.COMMENDATION else "-"
        return f"{self.employee.audit_repr()} {self.date} {sign}{self.points}"


class BlacklistStatus(models.TextChoices):
    PROPOSED = "proposed", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("不予列入")


class BlacklistEntry(models.Model):
    """A red-line record proposes its employee; the finance center confirms (with a period) or rejects."""

    Status = BlacklistStatus

    employee = models.ForeignKey("institutions.Employee", verbose_name=_("员工"), on_delete=models.PROTECT,
                                 related_name="blacklist_entries")
    record = models.OneToOneField(PointRecord, verbose_name=_("红线记录"), on_delete=models.PROTECT,
                                  related_name="blacklist_entry")
    status = models.CharField(_("状态"), max_length=10, choices=BlacklistStatus.choices,
                              default=BlacklistStatus.PROPOSED)
    reason = models.TextField(_("确认或驳回理由"), blank=True)
    starts_on = models.DateField(_("起始日"), null=True, blank=True)
    ends_on = models.DateField(_("截止日"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("确认人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)

    class Meta:
        db_table = "scoring_blacklistentry"
        verbose_name = _("黑名单")
        verbose_name_plural = _("黑名单")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=BlacklistStatus.values), name="blacklist_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=BlacklistStatus.CONFIRMED)
                | Q(starts_on__isnull=False, ends_on__isnull=False, ends_on__gte=F("starts_on")),
                name="blacklist_confirmed_has_period"),
        ]

    def __str__(self) -> str:
        return f"{self.employee}（{self.get_status_display()}）"

    def audit_repr(self) -> str:
        return f"{self.employee.audit_repr()}（{self.get_status_display()}）"


class PortraitView(models.Model):
    """Each view of a portrait by someone other than its employee."""

    employee = models.ForeignKey("institutions.Employee", verbose_name=_("员工"), on_delete=models.CASCADE,
                                 related_name="+")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("查看人"), on_delete=models.CASCADE,
                               related_name="+")
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        db_table = "scoring_portraitview"
        verbose_name = _("画像查看记录")
        verbose_name_plural = _("画像查看记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.viewer} → {self.employee} {self.at:%Y-%m-%d %H:%M}"

    def audit_repr(self) -> str:
        return f"{self.viewer} → {self.employee.audit_repr()} {self.at:%Y-%m-%d %H:%M}"


class Exemplar(models.Model):
    """清廉典型: proposed from the year's points, confirmed by the institution's head."""

    employee = models.ForeignKey("institutions.Employee", verbose_name=_("员工"), on_delete=models.CASCADE,
                                 related_name="exemplars")
    year = models.PositiveSmallIntegerField(_("年度"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("确认人"), null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(_("确认时间"), auto_now_add=True)
    # A deduction of the year recorded after the confirmation withdraws it (services.after_recording): the
    # row stays, as the trace of what was confirmed and why it no longer stands.
    withdrawn_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    withdrawn_because = models.ForeignKey(PointRecord, verbose_name=_("撤销依据（扣分记录）"), null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "scoring_exemplar"
        verbose_name = _("清廉典型")
        verbose_name_plural = _("清廉典型")
        constraints = [
            models.UniqueConstraint(fields=["employee", "year"], name="exemplar_once_a_year"),
            models.CheckConstraint(condition=Q(withdrawn_because__isnull=True) | Q(withdrawn_at__isnull=False),
                                   name="exemplar_withdrawn_with_time"),
        ]

    def __str__(self) -> str:
        return f"{self.employee} {self.year}"

    def audit_repr(self) -> str:
        return f"{self.employee.audit_repr()} {self.year}"
