"""Clean points (清廉积分): norms, yearly schemes, assessments with three score sheets, and results."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from core.fields import JSONTextField
from institutions.models import District, Institution, InstitutionCategory


class Norms(models.Model):
    """The year's creation norms (创建规范): 10 items holding 27 clauses.

    A district's own (`district` set) or the installation's template for the year (`district` empty),
    used by every district without norms of its own that year."""

    district = models.ForeignKey(District, verbose_name=_("区县"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="norms", help_text=_("留空即全系统模板，适用于当年没有自己规范的区县"))
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("标题"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("创建规范")
        verbose_name_plural = _("创建规范")
        ordering = ["-year", "district__code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year"], name="norms_one_per_district_year"),
            models.UniqueConstraint(fields=["year"], condition=Q(district__isnull=True),
                                    name="norms_one_template_per_year"),
        ]

    def __str__(self) -> str:
        return self.title or _("%(year)s 年度创建规范") % {"year": self.year}


class NormItem(models.Model):
    norms = models.ForeignKey(Norms, verbose_name=_("创建规范"), on_delete=models.CASCADE, related_name="items")
    number = models.PositiveSmallIntegerField(_("项号"))
    title = models.CharField(_("项目"), max_length=200)

    class Meta:
        verbose_name = _("规范项")
        verbose_name_plural = _("规范项")
        ordering = ["norms", "number"]
        constraints = [models.UniqueConstraint(fields=["norms", "number"], name="norm_item_number_unique")]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class NormClause(models.Model):
    norms = models.ForeignKey(Norms, verbose_name=_("创建规范"), on_delete=models.CASCADE, related_name="clauses")
    item = models.ForeignKey(NormItem, verbose_name=_("规范项"), on_delete=models.CASCADE, related_name="clauses")
    number = models.CharField(_("条号"), max_length=10)
    title = models.CharField(_("条款"), max_length=300)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("规范条款")
        verbose_name_plural = _("规范条款")
        ordering = ["norms", "item__number", "position"]
        constraints = [models.UniqueConstraint(fields=["norms", "number"], name="norm_clause_number_unique")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class SchemeStatus(models.TextChoices):
    """The scheme as a definition. Where a district's year stands (notice, published) is `DistrictYear`."""

    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("启用")


def default_linkage() -> dict[str, str]:
    return {"green": "priority", "blue": "eligible", "yellow": "restricted", "red": "excluded"}


def default_linkage_uses() -> dict:
    from scoring.rules import default_linkage_uses as defaults

    return defaults()


class LinkageUse(models.TextChoices):
    """The three uses of a result (结果运用); the table per use and colour is `Scheme.linkage_uses`."""

    FISCAL_TENDER = "fiscal_tender", _("财政性资金招投标及竞争性存放")
    PARTY_BUILDING = "party_building", _("党建星级评定")
    PERFORMANCE_APPRAISAL = "performance_appraisal", _("年度业绩考评")


class Scheme(models.Model):
    """One year's evaluation scheme (评价方案): indicators, weights, caps, bands and linkage.

    A district's own (`district` set) or the installation's template for the year, used by every
    district without a scheme of its own that year. Frozen once a district using it has published."""

    Status = SchemeStatus

    district = models.ForeignKey(District, verbose_name=_("区县"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="schemes", help_text=_("留空即全系统模板，适用于当年没有自己方案的区县"))
    year = models.PositiveSmallIntegerField(_("年度"))
    norms = models.OneToOneField(Norms, verbose_name=_("创建规范"), on_delete=models.PROTECT, related_name="scheme")
    weight_self = models.DecimalField(_("机构自评权重"), max_digits=4, decimal_places=3, default=Decimal("0.2"))
    weight_inspection = models.DecimalField(_("检查组考评权重"), max_digits=4, decimal_places=3,
                                            default=Decimal("0.5"))
    weight_third_party = models.DecimalField(_("第三方测评权重"), max_digits=4, decimal_places=3,
                                             default=Decimal("0.3"))
    bonus_cap = models.DecimalField(_("加分上限"), max_digits=5, decimal_places=2, default=Decimal("10"))
    complaint_deduction = models.DecimalField(_("每件属实投诉扣分"), max_digits=5, decimal_places=2,
                                              default=Decimal("1"))
    complaint_deduction_cap = models.DecimalField(_("投诉扣分上限"), max_digits=5, decimal_places=2,
                                                  default=Decimal("5"))
    band_green = models.DecimalField(_("绿色下限"), max_digits=5, decimal_places=2, default=Decimal("90"))
    band_blue = models.DecimalField(_("蓝色下限"), max_digits=5, decimal_places=2, default=Decimal("80"))
    band_yellow = models.DecimalField(_("黄色下限"), max_digits=5, decimal_places=2, default=Decimal("70"))
    linkage = models.JSONField(_("结果运用（财政性资金招投标）"), default=default_linkage)
    linkage_uses = models.JSONField(
        _("结果运用表（三项用途）"), default=default_linkage_uses,
        help_text=_("按用途（fiscal_tender 财政性资金招投标、party_building 党建星级评定、performance_appraisal "
                    "年度业绩考评）和颜色（green/blue/yellow/red，可选 red_line 触碰红线时）列出 code 代码、"
                    "label 名称、points 加减分；财政性资金招投标的代码以上一栏为准"))
    status = models.CharField(_("状态"), max_length=10, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT)
    self_due_date = models.DateField(_("自评截止日"), null=True, blank=True)
    review_due_date = models.DateField(_("考评截止日"), null=True, blank=True)
    aggregate_on = models.DateField(_("自动汇总日期"), null=True, blank=True,
                                    help_text=_("到达该日期时由定时任务自动汇总"))
    notice_days = models.PositiveSmallIntegerField(_("公示期（工作日）"), default=5)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("评价方案")
        verbose_name_plural = _("评价方案")
        ordering = ["-year", "district__code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year"], name="scheme_one_per_district_year"),
            models.UniqueConstraint(fields=["year"], condition=Q(district__isnull=True),
                                    name="scheme_one_template_per_year"),
            models.CheckConstraint(
                condition=Q(weight_self__gte=0, weight_inspection__gte=0, weight_third_party__gte=0),
                name="scheme_weights_not_negative"),
            models.CheckConstraint(
                condition=Exact(F("weight_self") + F("weight_inspection") + F("weight_third_party"), Decimal("1")),
                name="scheme_weights_sum_to_one"),
            models.CheckConstraint(condition=Q(band_green__gt=F("band_blue"), band_blue__gt=F("band_yellow"),
                                               band_yellow__gte=0), name="scheme_bands_descending"),
            models.CheckConstraint(condition=Q(bonus_cap__gte=0, complaint_deduction__gte=0,
                                               complaint_deduction_cap__gte=0), name="scheme_caps_not_negative"),
            models.CheckConstraint(condition=Q(status__in=SchemeStatus.values), name="scheme_status_valid"),
        ]

    def __str__(self) -> str:
        owner = self.district.name if self.district_id else _("模板")
        return _("%(year)s 年度评价方案（%(owner)s）") % {"year": self.year, "owner": owner}

    @property
    def is_template(self) -> bool:
        return self.district_id is None

    @property
    def is_frozen(self) -> bool:
        """Locked once a district using it is in its notice period or has published."""
        return self.district_years.exclude(status=YearStatus.OPEN).exists()

    def weight_for(self, source: str) -> Decimal:
        return getattr(self, f"weight_{source}")


class IndicatorKind(models.TextChoices):
    BASIC = "basic", _("基础项")
    BONUS = "bonus", _("加分项")
    RED_LINE = "red_line", _("红线项")


class Indicator(models.Model):
    Kind = IndicatorKind

    scheme = models.ForeignKey(Scheme, verbose_name=_("评价方案"), on_delete=models.CASCADE,
                               related_name="indicators")
    code = models.CharField(_("指标编码"), max_length=20)
    kind = models.CharField(_("类型"), max_length=10, choices=IndicatorKind.choices)
    clause = models.ForeignKey(NormClause, verbose_name=_("所属条款"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="indicators")
    max_points = models.DecimalField(_("满分"), max_digits=5, decimal_places=1, null=True, blank=True)
    title = models.CharField(_("指标"), max_length=300)
    guidance = models.TextField(_("评分说明"), blank=True)
    requires_evidence = models.BooleanField(_("须上传佐证"), default=False)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["scheme", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="indicator_code_unique_in_scheme"),
            models.CheckConstraint(condition=Q(kind__in=IndicatorKind.values), name="indicator_kind_valid"),
            models.CheckConstraint(
                condition=(Q(kind=IndicatorKind.RED_LINE, max_points__isnull=True)
                           | (~Q(kind=IndicatorKind.RED_LINE) & Q(max_points__gt=0))),
                name="indicator_max_points_by_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Source(models.TextChoices):
    SELF = "self", _("机构自评")
    INSPECTION = "inspection", _("检查组考评")
    THIRD_PARTY = "third_party", _("第三方测评")


class AssessmentState(models.TextChoices):
    NOT_STARTED = "not_started", _("未开始")
    SELF_IN_PROGRESS = "self_in_progress", _("自评填报中")
    SELF_SUBMITTED = "self_submitted", _("自评已提交")
    IN_REVIEW = "in_review", _("考评中")
    SCORED = "scored", _("已评分")
    NOTICE = "notice", _("公示中")
    PUBLISHED = "published", _("已发布")


class Assessment(models.Model):
    """一机构一表、一年一测评: one per institution per year."""

    State = AssessmentState

    # No index of its own: the unique (institution, year) below serves every lookup by institution, and
    # each index more is written again by every update of an assessment's state (issue 16).
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="assessments", db_index=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    scheme = models.ForeignKey(Scheme, verbose_name=_("评价方案"), on_delete=models.PROTECT,
                               related_name="assessments")
    state = models.CharField(_("状态"), max_length=20, choices=AssessmentState.choices,
                             default=AssessmentState.NOT_STARTED)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("测评表")
        verbose_name_plural = _("测评表")
        ordering = ["-year", "institution__code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "year"], name="assessment_one_per_institution_year"),
            models.CheckConstraint(condition=Q(state__in=AssessmentState.values), name="assessment_state_valid"),
        ]
        # Re-aggregation finds the districts whose inputs changed since their last run by these
        # timestamps (services.districts_to_aggregate), here and on sheets and entries.
        indexes = [models.Index(fields=["year", "updated_at"], name="assessment_year_updated")]

    def __str__(self) -> str:
        return f"{self.institution} · {self.year}"


class AssessmentEvent(models.Model):
    """Every workflow transition, with who, when and why."""

    assessment = models.ForeignKey(Assessment, verbose_name=_("测评表"), on_delete=models.CASCADE,
                                   related_name="events")
    action = models.CharField(_("操作"), max_length=40)
    source = models.CharField(_("评分来源"), max_length=12, choices=Source.choices, blank=True)
    from_state = models.CharField(_("原状态"), max_length=20, choices=AssessmentState.choices)
    to_state = models.CharField(_("新状态"), max_length=20, choices=AssessmentState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(_("原因"), blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("流转记录")
        verbose_name_plural = _("流转记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.assessment} {self.action} {self.from_state}→{self.to_state}"


class SheetStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")


class ScoreSheet(models.Model):
    Status = SheetStatus

    assessment = models.ForeignKey(Assessment, verbose_name=_("测评表"), on_delete=models.CASCADE,
                                   related_name="sheets")
    source = models.CharField(_("评分来源"), max_length=12, choices=Source.choices)
    status = models.CharField(_("状态"), max_length=10, choices=SheetStatus.choices, default=SheetStatus.DRAFT)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    returned_reason = models.TextField(_("退回原因"), blank=True)
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # What the rules need of the entries, counted when the sheet is submitted (scoring.sheet_sums);
    # empty while it is a draft. Kept as text: an aggregation reads hundreds of thousands of them, and
    # PostgreSQL's jsonb formats every number again on each read (two thirds of a batch's read).
    sums = JSONTextField(_("提交时的合计"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("评分表")
        verbose_name_plural = _("评分表")
        ordering = ["assessment", "source"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "source"], name="sheet_one_per_source"),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="sheet_source_valid"),
            models.CheckConstraint(condition=Q(status__in=SheetStatus.values), name="sheet_status_valid"),
        ]
        indexes = [models.Index(fields=["updated_at"], name="sheet_updated")]

    def __str__(self) -> str:
        return f"{self.assessment} · {self.get_source_display()}"


class SheetEntry(models.Model):
    """One value per indicator on a sheet. `version` guards against silent lost updates."""

    sheet = models.ForeignKey(ScoreSheet, verbose_name=_("评分表"), on_delete=models.CASCADE,
                              related_name="entries")
    indicator = models.ForeignKey(Indicator, verbose_name=_("指标"), on_delete=models.PROTECT,
                                  related_name="entries")
    points = models.DecimalField(_("得分"), max_digits=5, decimal_places=1, null=True, blank=True)
    hit = models.BooleanField(_("触碰红线"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("修改人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("评分项")
        verbose_name_plural = _("评分项")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "indicator"], name="entry_one_per_indicator"),
            models.CheckConstraint(condition=Q(points__isnull=True) | Q(points__gte=0),
                                   name="entry_points_not_negative"),
            models.CheckConstraint(condition=Q(points__isnull=True) | Q(hit__isnull=True),
                                   name="entry_points_or_hit"),
        ]
        indexes = [models.Index(fields=["updated_at"], name="entry_updated")]

    def __str__(self) -> str:
        return f"{self.sheet} · {self.indicator.code}"


def evidence_path(instance, filename: str) -> str:
    entry = instance.entry
    return f"evidence/{entry.sheet.assessment.year}/{entry.sheet.assessment.institution_id}/{instance.sha256}"


class Evidence(models.Model):
    entry = models.ForeignKey(SheetEntry, verbose_name=_("评分项"), on_delete=models.CASCADE,
                              related_name="evidence")
    file = models.FileField(_("文件"), upload_to=evidence_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        constraints = [models.CheckConstraint(condition=Q(size__lte=10 * 1024 * 1024), name="evidence_at_most_10mb")]

    def __str__(self) -> str:
        return self.original_name


class Assignment(models.Model):
    """An inspector's or the third party's assignment to score an institution in a year."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评分人"), on_delete=models.CASCADE,
                             related_name="scoring_assignments")
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="scoring_assignments")
    year = models.PositiveSmallIntegerField(_("年度"))
    source = models.CharField(_("评分来源"), max_length=12,
                              choices=[(Source.INSPECTION, Source.INSPECTION.label),
                                       (Source.THIRD_PARTY, Source.THIRD_PARTY.label)])

    class Meta:
        verbose_name = _("评分分工")
        verbose_name_plural = _("评分分工")
        constraints = [
            models.UniqueConstraint(fields=["user", "institution", "year", "source"], name="assignment_unique"),
            models.CheckConstraint(condition=Q(source__in=[Source.INSPECTION, Source.THIRD_PARTY]),
                                   name="assignment_source_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.institution}（{self.year} {self.get_source_display()}）"


class YearStatus(models.TextChoices):
    OPEN = "open", _("测评中")
    NOTICE = "notice", _("公示中")
    PUBLISHED = "published", _("已发布")


class DistrictYear(models.Model):
    """Where one district's year stands: the scheme it uses (its own or the template), its notice
    period and publishing. Each district runs its own year; locking or publishing one never touches
    another."""

    Status = YearStatus

    district = models.ForeignKey(District, verbose_name=_("区县"), on_delete=models.PROTECT,
                                 related_name="scoring_years")
    year = models.PositiveSmallIntegerField(_("年度"))
    scheme = models.ForeignKey(Scheme, verbose_name=_("评价方案"), on_delete=models.PROTECT,
                               related_name="district_years")
    status = models.CharField(_("状态"), max_length=10, choices=YearStatus.choices, default=YearStatus.OPEN)
    notice_ends_on = models.DateField(_("公示截止日"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    aggregated_at = models.DateTimeField(_("最近汇总时间"), null=True, blank=True,
                                         help_text=_("最近一次汇总开始读取评分表的时间"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("区县年度")
        verbose_name_plural = _("区县年度")
        ordering = ["-year", "district__code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year"], name="district_year_unique"),
            models.CheckConstraint(condition=Q(status__in=YearStatus.values), name="district_year_status_valid"),
        ]

    def __str__(self) -> str:
        return _("%(district)s %(year)s 年度（%(status)s）") % {
            "district": self.district.name, "year": self.year, "status": self.get_status_display()}

    @property
    def is_published(self) -> bool:
        return self.status == YearStatus.PUBLISHED


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class AggregationRun(models.Model):
    Status = RunStatus

    year = models.PositiveSmallIntegerField(_("年度"))
    district = models.ForeignKey(District, verbose_name=_("区县"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    status = models.CharField(_("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    institutions_total = models.PositiveIntegerField(_("机构数"), default=0)
    results_written = models.PositiveIntegerField(_("写入结果数"), default=0)
    results_changed = models.PositiveIntegerField(_("变化结果数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("汇总任务")
        verbose_name_plural = _("汇总任务")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="run_progress_at_most_100"),
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="run_status_valid"),
        ]

    def __str__(self) -> str:
        return _("%(year)s 汇总 #%(run)s（%(status)s）") % {
            "year": self.year, "run": self.pk, "status": self.get_status_display()}

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Colour(models.TextChoices):
    GREEN = "green", _("绿")
    BLUE = "blue", _("蓝")
    YELLOW = "yellow", _("黄")
    RED = "red", _("红")


class ResultStatus(models.TextChoices):
    PROVISIONAL = "provisional", _("暂定")
    FINAL = "final", _("最终")
    PUBLISHED = "published", _("已发布")


class Result(models.Model):
    """One row per institution and year, written only by the aggregation."""

    Colour = Colour
    Status = ResultStatus

    # Indexed by the unique (institution, year) below, as the assessment's (each index more is written by
    # every result an aggregation writes).
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="results", db_index=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    district = models.ForeignKey(District, verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("类别"), max_length=20, choices=InstitutionCategory.choices)
    basic = models.DecimalField(_("基础分"), max_digits=6, decimal_places=2)
    bonus = models.DecimalField(_("加分"), max_digits=6, decimal_places=2)
    deduction = models.DecimalField(_("扣分"), max_digits=6, decimal_places=2)
    total = models.DecimalField(_("总分"), max_digits=6, decimal_places=2)
    red_line = models.BooleanField(_("触碰红线"), default=False)
    colour = models.CharField(_("颜色"), max_length=10, choices=Colour.choices)
    rank = models.PositiveIntegerField(_("区内排名"))
    category_rank = models.PositiveIntegerField(_("区内类别排名"))
    status = models.CharField(_("状态"), max_length=12, choices=ResultStatus.choices)
    sources = models.JSONField(_("有效来源"), default=list)
    fiscal_tender = models.CharField(_("财政性资金招投标"), max_length=20)
    party_building = models.CharField(_("党建星级评定"), max_length=20, default="", blank=True)
    performance_appraisal = models.CharField(_("年度业绩考评"), max_length=20, default="", blank=True)
    fiscal_tender_points = models.DecimalField(_("招投标加减分"), max_digits=6, decimal_places=2,
                                               default=Decimal("0"))
    party_building_points = models.DecimalField(_("党建评星加减分"), max_digits=6, decimal_places=2,
                                                default=Decimal("0"))
    performance_appraisal_points = models.DecimalField(_("业绩考评加减分"), max_digits=6, decimal_places=2,
                                                       default=Decimal("0"))
    linkage_labels = models.JSONField(_("结果运用名称"), default=dict, blank=True,
                                      help_text=_("各用途的中文名称，汇总时按方案写入"))
    complaints_substantiated = models.PositiveIntegerField(_("属实投诉"), default=0)
    complaints_partial = models.PositiveIntegerField(_("部分属实投诉"), default=0)
    # The per-item summary (分项得分): item number (as text) -> the institution's weighted points on that
    # basic item (项) of the norms, in cents (integers: exact in JSON). Same rule as the basic score
    # (SCORING.md step 2 over the item's basic indicators, rounded half up to cents), one key per item
    # of the district's scheme, written with the rest of the row (issue 16: 170,000 rows, not 1.9
    # million separate ones). Read with `item_points()` or, in queries, `scoring.selectors.ItemCents`.
    item_cents = models.JSONField(_("分项得分（分）"), default=dict, blank=True,
                                  help_text=_("项号 → 该项加权得分（以分计，汇总时写入）"))
    run = models.ForeignKey(AggregationRun, verbose_name=_("汇总任务"), null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="results")
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("积分结果")
        verbose_name_plural = _("积分结果")
        ordering = ["year", "district__code", "rank", "institution__code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "year"], name="result_one_per_institution_year"),
            models.CheckConstraint(condition=Q(total__gte=0), name="result_total_not_negative"),
            models.CheckConstraint(condition=Q(colour__in=Colour.values), name="result_colour_valid"),
            models.CheckConstraint(condition=Q(status__in=ResultStatus.values), name="result_status_valid"),
            models.CheckConstraint(condition=~Q(red_line=True) | Q(colour=Colour.RED),
                                   name="result_red_line_is_red"),
        ]
        indexes = [models.Index(fields=["year", "district", "rank"]),
                   models.Index(fields=["year", "district", "category", "rank"])]

    def __str__(self) -> str:
        return f"{self.institution} {self.year}: {self.total}"

    def item_points(self) -> dict[int, Decimal]:
        """Item number -> the stored weighted points on it (the per-item summary)."""
        return item_points_of(self.item_cents)


def points_of_cents(cents: int) -> Decimal:
    """Stored cents as points with two places (7020 -> 70.20, 0 -> 0.00)."""
    return Decimal(cents).scaleb(-2)


def item_points_of(item_cents: dict) -> dict[int, Decimal]:
    """`Result.item_cents` as item number -> points (Decimal, two places), in item order."""
    return {int(number): points_of_cents(cents) for number, cents in
            sorted((item_cents or {}).items(), key=lambda pair: int(pair[0]))}


class ObjectionStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    UPHELD = "upheld", _("异议成立")
    REJECTED = "rejected", _("异议不成立")


class Objection(models.Model):
    """异议 (objection) filed by an institution during the public-notice period."""

    Status = ObjectionStatus

    assessment = models.ForeignKey(Assessment, verbose_name=_("测评表"), on_delete=models.CASCADE,
                                   related_name="objections")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("异议人"), null=True,
                                 on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(_("异议理由"))
    evidence = models.FileField(_("佐证材料"), upload_to="objections/%Y/", blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=ObjectionStatus.choices,
                              default=ObjectionStatus.PENDING)
    decision = models.TextField(_("处理意见"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("处理人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    filed_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    # An upheld objection is corrected: the sheet concerned is reopened (with the reason logged), then
    # the district is aggregated again; `before` keeps the result as it stood when the case was upheld.
    reopened_source = models.CharField(_("重新开放的评分表"), max_length=12, choices=Source.choices, blank=True)
    before = models.JSONField(_("更正前结果"), default=dict, blank=True)

    class Meta:
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        ordering = ["-filed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ObjectionStatus.values), name="objection_status_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="objection_reason_required"),
        ]

    def __str__(self) -> str:
        return _("%(assessment)s 异议（%(status)s）") % {
            "assessment": self.assessment, "status": self.get_status_display()}


class SchemeEvent(models.Model):
    """Year-level actions (activate, lock for notice, publish, reopen) with who, when and why."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("评价方案"), on_delete=models.CASCADE, related_name="events")
    district = models.ForeignKey(District, verbose_name=_("区县"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", help_text=_("公示、发布、重新开放等区县年度操作"))
    action = models.CharField(_("操作"), max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(_("原因"), blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("方案操作记录")
        verbose_name_plural = _("方案操作记录")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.scheme} {self.action}"



def _letter_storage():
    from core.storage import PrivateStorage

    return PrivateStorage("SCORING_LETTERS_ROOT", "linkage_letters")


class LinkageLetter(models.Model):
    """The letter (结果运用函) a district sends one recipient about one use of its published year: every
    institution with colour, total, rank and the use's code and points, as xlsx and a numbered PDF.
    Written when the year is published (`scoring.services.generate_letters`); regenerated after a reopen
    and a new publication with a new number."""

    Use = LinkageUse

    district = models.ForeignKey(District, verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    use = models.CharField(_("用途"), max_length=30, choices=LinkageUse.choices)
    serial = models.PositiveIntegerField(_("序号"), help_text=_("本区本年度函件的顺序号"))
    number = models.CharField(_("文号"), max_length=80)
    recipient = models.CharField(_("收函单位"), max_length=100)
    institutions = models.PositiveIntegerField(_("机构数"), default=0)
    published_at = models.DateTimeField(_("结果发布时间"))
    generated_at = models.DateTimeField(_("生成时间"), auto_now=True)
    xlsx = models.FileField(_("Excel 清单"), storage=_letter_storage, upload_to="%Y", blank=True)
    pdf = models.FileField(_("PDF 函件"), storage=_letter_storage, upload_to="%Y", blank=True)

    class Meta:
        verbose_name = _("结果运用函")
        verbose_name_plural = _("结果运用函")
        ordering = ["-year", "district__code", "use"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year", "use"], name="letter_one_per_district_year_use"),
            models.UniqueConstraint(fields=["district", "year", "serial"], name="letter_serial_unique"),
            models.CheckConstraint(condition=Q(use__in=LinkageUse.values), name="letter_use_valid"),
        ]

    def __str__(self) -> str:
        return self.number


class LetterDispatch(models.Model):
    """What was sent (or fetched) to whom and when: one row per delivery or download of a letter."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        DOWNLOAD = "download", _("下载")
        API = "api", _("接口下载")
        NOTICE = "notice", _("消息通知")

    letter = models.ForeignKey(LinkageLetter, verbose_name=_("函件"), on_delete=models.CASCADE,
                               related_name="dispatches")
    number = models.CharField(_("文号"), max_length=80, help_text=_("发送时的文号（重新生成后仍可查）"))
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("接收方"), max_length=255)
    file_format = models.CharField(_("格式"), max_length=10, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("函件发送记录")
        verbose_name_plural = _("函件发送记录")
        ordering = ["-at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(channel__in=["email", "download", "api", "notice"]),
                                              name="letterdispatch_channel_valid")]

    def __str__(self) -> str:
        return f"{self.number} → {self.recipient}"


class CityPackage(models.Model):
    """A district's published results and statistics imported from the district's own installation
    (the exchange with the city, 与市级交换): the package as received, and the aggregates the city
    index needs. One per district and year; a newer package replaces it."""

    district = models.ForeignKey(District, verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    schema_version = models.PositiveSmallIntegerField(_("数据包版本"))
    checksum = models.CharField(_("校验和"), max_length=64, help_text=_("数据包内容的 SHA-256"))
    published_at = models.DateTimeField(_("结果发布时间"))
    generated_at = models.DateTimeField(_("数据包生成时间"))
    institutions = models.PositiveIntegerField(_("机构数"))
    total_sum = models.DecimalField(_("总分合计"), max_digits=12, decimal_places=2)
    colours = models.JSONField(_("四色分布"), default=dict)
    red_lines = models.PositiveIntegerField(_("触碰红线机构数"))
    substantiated = models.PositiveIntegerField(_("属实投诉"))
    partially = models.PositiveIntegerField(_("部分属实投诉"))
    package = models.JSONField(_("数据包"))
    imported_at = models.DateTimeField(_("导入时间"), auto_now=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("导入人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("区县结果数据包")
        verbose_name_plural = _("区县结果数据包")
        ordering = ["-year", "district__code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year"], name="citypackage_one_per_district_year"),
            models.CheckConstraint(condition=Q(institutions__gt=0, total_sum__gte=0),
                                   name="citypackage_has_results"),
        ]

    def __str__(self) -> str:
        return f"{self.district.name} {self.year}（v{self.schema_version}）"


class CityIndexWeights(models.Model):
    """A city's weights of its clean-finance index (清廉金融指数); without a row, docs/city-index.md's."""

    city = models.OneToOneField(District, verbose_name=_("市"), on_delete=models.CASCADE,
                                related_name="index_weights", limit_choices_to={"level": "city"})
    score = models.DecimalField(_("积分权重"), max_digits=4, decimal_places=3, default=Decimal("0.5"))
    colour = models.DecimalField(_("四色分布权重"), max_digits=4, decimal_places=3, default=Decimal("0.2"))
    red_line = models.DecimalField(_("红线权重"), max_digits=4, decimal_places=3, default=Decimal("0.2"))
    complaints = models.DecimalField(_("属实投诉权重"), max_digits=4, decimal_places=3, default=Decimal("0.1"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("修改人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("市级指数权重")
        verbose_name_plural = _("市级指数权重")
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0, colour__gte=0, red_line__gte=0, complaints__gte=0),
                                   name="cityweights_not_negative"),
            # Within half a thousandth of 1 (the weights have three decimals): exact in PostgreSQL's
            # numeric, and SQLite's floating-point sum of 0.3 + 0.3 + 0.3 + 0.1 passes too.
            models.CheckConstraint(
                condition=Q(GreaterThanOrEqual(F("score") + F("colour") + F("red_line") + F("complaints"),
                                               Decimal("0.9995")))
                & Q(LessThanOrEqual(F("score") + F("colour") + F("red_line") + F("complaints"), Decimal("1.0005"))),
                name="cityweights_sum_to_one"),
        ]

    def __str__(self) -> str:
        return _("%(city)s 指数权重") % {"city": self.city.name}

    def as_dict(self) -> dict[str, Decimal]:
        return {"score": self.score, "colour": self.colour, "red_line": self.red_line, "complaints": self.complaints}
