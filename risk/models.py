"""风险预警 (数智监督, RISK.md): the extracts an institution loads, the rule settings and suppressions,
screenings, alerts and the district's stored per-institution figures.

The data stays with its institution: every row carries its institution, and only the institution's
filers and heads reach rows; the finance center reads `InstitutionSummary` (no person, no
transaction) and escalated alerts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from institutions.models import Institution


class Kind(models.TextChoices):
    TRANSACTIONS = "transactions", _("资金交易")
    RELATIONSHIPS = "relationships", _("客户关系")
    EVENTS = "events", _("系统操作")


class Direction(models.TextChoices):
    IN = "in", _("转入")
    OUT = "out", _("转出")


class Channel(models.TextChoices):
    TRANSFER = "transfer", _("转账")
    CASH = "cash", _("现金")
    CARD = "card", _("刷卡")


class CounterpartyType(models.TextChoices):
    CUSTOMER = "customer", _("客户")
    EMPLOYEE = "employee", _("员工")
    COMPANY = "company", _("企业")
    INDIVIDUAL = "individual", _("个人")
    MERCHANT = "merchant", _("商户")


class Relation(models.TextChoices):
    LOAN_OFFICER = "loan_officer", _("信贷员")
    ACCOUNT_MANAGER = "account_manager", _("客户经理")


class Severity(models.TextChoices):
    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")


class AlertStatus(models.TextChoices):
    NEW = "new", _("待处理")
    REVIEWING = "reviewing", _("核查中")
    DISMISSED = "dismissed", _("已排除")
    CONFIRMED = "confirmed", _("已确认")
    ESCALATED = "escalated", _("已上报")


class ScreeningStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class Upload(models.Model):
    """One loaded file (all of its rows stored, or none and no Upload)."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="risk_uploads")
    kind = models.CharField(_("数据类型"), max_length=16, choices=Kind.choices)
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("预警数据上传")
        verbose_name_plural = _("预警数据上传")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=Kind.values), name="risk_upload_kind_valid")]

    def __str__(self) -> str:
        return _("{kind} {filename}（{rows} 行）").format(
            kind=self.get_kind_display(), filename=self.filename, rows=self.rows)


class Transaction(models.Model):
    """A movement on an employee's own account (RISK.md `transactions`)."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+", db_index=False, db_constraint=False)  # see migration 0002
    txn_id = models.CharField(_("交易编号"), max_length=64)
    employee_no = models.CharField(_("工号"), max_length=32)
    occurred_at = models.DateTimeField(_("交易时间"))
    occurred_on = models.DateField(_("交易日期（北京时间）"))
    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices)
    amount = models.DecimalField(_("金额"), max_digits=16, decimal_places=2)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    counterparty_id = models.CharField(_("对手方编号"), max_length=64)
    counterparty_name = models.CharField(_("对手方名称"), max_length=200, blank=True)
    counterparty_type = models.CharField(_("对手方类型"), max_length=12, choices=CounterpartyType.choices)
    merchant_category = models.CharField(_("商户类别码"), max_length=4, blank=True)
    loaded_at = models.DateTimeField(_("载入时间"))  # the purge reads it through a BRIN index (migration 0002)

    class Meta:
        verbose_name = _("员工资金交易")
        verbose_name_plural = _("员工资金交易")
        constraints = [
            models.UniqueConstraint(fields=["institution", "txn_id"], name="risk_txn_unique_in_institution"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="risk_txn_amount_positive"),
        ]
        # read by institution and day through a BRIN index on PostgreSQL (migration 0003), not a btree

    def __str__(self) -> str:
        return f"{self.txn_id} {self.employee_no} {self.amount}"


class Relationship(models.Model):
    """Who serves which customer, and since/until when (RISK.md `relationships`)."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+", db_index=False, db_constraint=False)  # see migration 0002
    employee_no = models.CharField(_("工号"), max_length=32)
    counterparty_id = models.CharField(_("客户编号"), max_length=64)
    relation = models.CharField(_("关系"), max_length=16, choices=Relation.choices)
    since = models.DateField(_("起始日期"))
    until = models.DateField(_("终止日期"), null=True, blank=True)
    loaded_at = models.DateTimeField(_("载入时间"))  # the purge reads it through a BRIN index (migration 0002)

    class Meta:
        verbose_name = _("员工客户关系")
        verbose_name_plural = _("员工客户关系")
        indexes = [models.Index(fields=["institution", "employee_no", "counterparty_id"], name="risk_rel_emp_cp")]

    def __str__(self) -> str:
        return f"{self.employee_no} → {self.counterparty_id}"


class Event(models.Model):
    """An action of an employee in the core systems (RISK.md `events`)."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+", db_index=False, db_constraint=False)  # see migration 0002
    employee_no = models.CharField(_("工号"), max_length=32)
    occurred_at = models.DateTimeField(_("操作时间"))
    occurred_on = models.DateField(_("操作日期（北京时间）"))
    action = models.CharField(_("操作"), max_length=40)
    target_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    loaded_at = models.DateTimeField(_("载入时间"))  # the purge reads it through a BRIN index (migration 0002)

    class Meta:
        verbose_name = _("员工系统操作")
        verbose_name_plural = _("员工系统操作")
        indexes = [models.Index(fields=["institution", "employee_no", "occurred_on"], name="risk_evt_emp_day")]

    def __str__(self) -> str:
        return f"{self.employee_no} {self.action} {self.occurred_at:%Y-%m-%d %H:%M}"


class RuleSetting(models.Model):
    """An institution's switch and parameters for one rule (absent: enabled with the defaults)."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+")
    rule = models.CharField(_("规则"), max_length=3)
    enabled = models.BooleanField(_("启用"), default=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("修改人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(_("修改原因"))
    changed_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("规则设置")
        verbose_name_plural = _("规则设置")
        constraints = [models.UniqueConstraint(fields=["institution", "rule"], name="risk_rule_setting_unique")]

    def __str__(self) -> str:
        return f"{self.rule} {_('启用') if self.enabled else _('停用')}"


class RuleSettingChange(models.Model):
    """Every change of a rule setting: who, when, why, from what to what."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+")
    rule = models.CharField(_("规则"), max_length=3)
    enabled = models.BooleanField(_("启用"))
    params = models.JSONField(_("参数"), default=dict)
    previous = models.JSONField(_("修改前"), default=dict)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("修改人"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(_("修改原因"))
    changed_at = models.DateTimeField(_("修改时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("规则设置变更")
        verbose_name_plural = _("规则设置变更")
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.rule} {self.changed_at:%Y-%m-%d}"


class Suppression(models.Model):
    """A key that raises no alert (e.g. an employee and a relative's account), with the reason.
    Empty counterparty or period: any."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+")
    rule = models.CharField(_("规则"), max_length=3)
    employee_no = models.CharField(_("工号"), max_length=32)
    counterparty_id = models.CharField(_("对手方编号"), max_length=64, blank=True)
    period = models.CharField(_("期间"), max_length=21, blank=True)
    reason = models.TextField(_("原因"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("设置人"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("设置时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("预警屏蔽")
        verbose_name_plural = _("预警屏蔽")
        constraints = [models.UniqueConstraint(fields=["institution", "rule", "employee_no", "counterparty_id",
                                                       "period"], name="risk_suppression_unique")]

    def __str__(self) -> str:
        return f"{self.rule} {self.employee_no} {self.counterparty_id}"


class Screening(models.Model):
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="risk_screenings")
    date_from = models.DateField(_("起始日期"))
    date_to = models.DateField(_("截止日期"))
    status = models.CharField(_("状态"), max_length=10, choices=ScreeningStatus.choices,
                              default=ScreeningStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    alerts_created = models.PositiveIntegerField(_("新增预警"), default=0)
    alerts_total = models.PositiveIntegerField(_("命中预警"), default=0)
    rules_run = models.JSONField(_("运行的规则"), default=list, blank=True)
    error = models.TextField(_("失败原因"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("预警筛查")
        verbose_name_plural = _("预警筛查")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(date_from__lte=models.F("date_to")),
                                              name="risk_screening_range")]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.period}"

    @property
    def period(self) -> str:
        return f"{self.date_from.isoformat()}/{self.date_to.isoformat()}"


class Alert(models.Model):
    """One alert per key (institution, rule, employee, counterparty, period)."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="risk_alerts")
    rule = models.CharField(_("规则"), max_length=3)
    rule_version = models.CharField(_("规则版本"), max_length=10)
    params = models.JSONField(_("参数"), default=dict)
    severity = models.CharField(_("等级"), max_length=8, choices=Severity.choices)
    employee_no = models.CharField(_("工号"), max_length=32)
    counterparty_id = models.CharField(_("对手方编号"), max_length=64, blank=True)
    period = models.CharField(_("期间"), max_length=21)
    status = models.CharField(_("状态"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.NEW)
    evidence = models.JSONField(_("证据"), default=list)
    raised_on = models.DateField(_("预警日期"))
    due_on = models.DateField(_("核查期限"))
    screening = models.ForeignKey(Screening, verbose_name=_("首次筛查"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="alerts")
    last_screening = models.ForeignKey(Screening, verbose_name=_("最近筛查"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("核查人"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("处理意见"), blank=True)
    point_record_id = models.PositiveBigIntegerField(_("积分记录"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("处理完成时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("上报时间"), null=True, blank=True)
    forwarded_to = models.CharField(_("转交单位"), max_length=100, blank=True)
    reminded_at = models.DateTimeField(_("最近提醒"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("风险预警")
        verbose_name_plural = _("风险预警")
        ordering = ["-raised_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "rule", "employee_no", "counterparty_id", "period"],
                                    name="risk_alert_key_unique"),
            models.CheckConstraint(condition=Q(status__in=AlertStatus.values), name="risk_alert_status_valid"),
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="risk_alert_severity_valid"),
        ]
        indexes = [models.Index(fields=["institution", "status"], name="risk_alert_inst_status")]

    def __str__(self) -> str:
        return f"{self.rule} {self.employee_no} {self.period}"

    @property
    def year(self) -> int:
        """The year the alert counts in (its period's)."""
        return int(self.period[:4])


class AlertAction(models.Model):
    """The alert's trail: who did what, when, with which note."""

    alert = models.ForeignKey(Alert, verbose_name=_("预警"), on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(_("操作"), max_length=12)
    from_status = models.CharField(_("原状态"), max_length=10)
    to_status = models.CharField(_("新状态"), max_length=10)
    note = models.TextField(_("说明"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("预警处理记录")
        verbose_name_plural = _("预警处理记录")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_status}→{self.to_status}"


class InstitutionSummary(models.Model):
    """The district's stored figures per institution and year: counts only, no person, no transaction."""

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    by_rule = models.JSONField(_("按规则"), default=dict)
    by_status = models.JSONField(_("按状态"), default=dict)
    total = models.PositiveIntegerField(_("预警数"), default=0)
    overdue = models.PositiveIntegerField(_("逾期未处理"), default=0)
    closed = models.PositiveIntegerField(_("已处理"), default=0)
    avg_review_days = models.DecimalField(_("平均处理天数"), max_digits=7, decimal_places=1, null=True, blank=True)
    confirmed_rate = models.DecimalField(_("确认率"), max_digits=5, decimal_places=4, null=True, blank=True)
    refreshed_at = models.DateTimeField(_("统计时间"), auto_now=True)

    class Meta:
        verbose_name = _("预警统计")
        verbose_name_plural = _("预警统计")
        constraints = [models.UniqueConstraint(fields=["institution", "year"], name="risk_summary_unique")]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.year}"
