"""Response shapes of the dashboards' JSON endpoints, for the OpenAPI schema.

The views hand back data.py's dicts as they are (decimals are strings, as everywhere in the API);
these serializers describe them and, for the report endpoints, render model rows.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from risk.models import AlertStatus

from .. import figures, services
from ..models import AnnualReport


def Dec(**kwargs):  # reads like a field class
    return serializers.CharField(allow_null=True, help_text=kwargs.pop("help_text", _("十进制数（字符串）")), **kwargs)


class DashboardDistrictRef(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DashboardHead(serializers.Serializer):
    district = DashboardDistrictRef()
    year = serializers.IntegerField()
    category = serializers.CharField(allow_blank=True)
    category_label = serializers.CharField(allow_blank=True)


class ColourShare(serializers.Serializer):
    colour = serializers.ChoiceField(choices=list(figures.COLOUR_LABELS.items()))
    label = serializers.CharField()
    count = serializers.IntegerField()
    share = Dec(help_text=_("占比（%，一位小数）"))


class ColoursResponse(DashboardHead):
    institutions = serializers.IntegerField()
    colours = ColourShare(many=True)
    red_lines = serializers.IntegerField()
    mean_total = Dec()


class RankingRow(serializers.Serializer):
    rank = serializers.IntegerField(help_text=_("区内排名：汇总时计算并保存的名次（红线在后，总分降序，并列同名次）"))
    of = serializers.IntegerField(help_text=_("区内当年有结果的机构数"))
    rank_text = serializers.CharField(help_text=_("区内排名 x/y"))
    category_rank = serializers.IntegerField(help_text=_("区内类别排名（保存的名次）"))
    category_of = serializers.IntegerField(help_text=_("区内同类别有结果的机构数"))
    institution_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    basic = Dec()
    bonus = Dec()
    deduction = Dec()
    total = Dec()
    red_line = serializers.BooleanField()
    colour = serializers.CharField()
    colour_label = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    previous_total = Dec()
    change = Dec(help_text=_("较上年总分变化"))
    url = serializers.CharField(help_text=_("机构看板"))


class RankingResponse(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = RankingRow(many=True)


class ScoreBin(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class DistributionResponse(DashboardHead):
    institutions = serializers.IntegerField()
    bins = ScoreBin(many=True)


class ItemRow(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    maximum = Dec(help_text=_("该项基础指标满分合计"))
    average = Dec()
    best = Dec()
    share = Dec(help_text=_("平均分占满分的百分比"))


class ItemsResponse(DashboardHead):
    institutions = serializers.IntegerField()
    items = ItemRow(many=True)


class TrendYear(serializers.Serializer):
    year = serializers.IntegerField()
    institutions = serializers.IntegerField()
    mean_total = Dec()
    change = Dec(help_text=_("平均总分较上年变化"))
    colours = ColourShare(many=True)
    red_lines = serializers.IntegerField()


class TrendResponse(DashboardHead):
    years = TrendYear(many=True)


class KindCount(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class OutcomeCount(serializers.Serializer):
    outcome = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class ComplaintSummary(serializers.Serializer):
    total = serializers.IntegerField()
    kinds = KindCount(many=True)
    months = serializers.ListField(child=serializers.IntegerField())
    series = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()),
                                   help_text=_("类型 → 1–12 月件数"))
    concluded = serializers.IntegerField()
    outcomes = OutcomeCount(many=True)
    substantiation_rate = Dec(help_text=_("属实率（属实＋部分属实，%）"))
    average_handling_days = Dec(help_text=_("平均办理天数（接收至出结论，自然日）"))


class ComplaintsResponse(DashboardHead, ComplaintSummary):
    pass


class SatisfactionMonth(serializers.Serializer):
    month = serializers.IntegerField()
    rated = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    rate = Dec()
    previous_rated = serializers.IntegerField()
    previous_rate = Dec()
    change = Dec(help_text=_("同比（百分点）"))


class SatisfactionSummary(serializers.Serializer):
    previous_year = serializers.IntegerField()
    months = SatisfactionMonth(many=True)
    rated = serializers.IntegerField()
    rate = Dec()
    previous_rated = serializers.IntegerField()
    previous_rate = Dec()
    change = Dec(help_text=_("满意率同比变化（百分点，一位小数）"))
    change_text = serializers.CharField()
    same_period_to = serializers.CharField(allow_null=True, help_text=_("当年未结束时的同期截止日（MM-DD）"))


class SatisfactionResponse(DashboardHead, SatisfactionSummary):
    pass


class ViolationMonth(serializers.Serializer):
    month = serializers.IntegerField()
    count = serializers.IntegerField()
    previous = serializers.IntegerField()


class ModuleCount(serializers.Serializer):
    module = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    previous = serializers.IntegerField()


class ViolationsResponse(DashboardHead):
    previous_year = serializers.IntegerField()
    months = ViolationMonth(many=True)
    count = serializers.IntegerField()
    previous = serializers.IntegerField()
    change = Dec(help_text=_("同比变化（%，一位小数）"))
    change_text = serializers.CharField()
    modules = ModuleCount(many=True)
    same_period_to = serializers.CharField(allow_null=True)


class WarningRate(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text=_("人名已隐去"))
    publish_at = serializers.DateField()
    delivered = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    acknowledged_rate = Dec()


class CategoryRate(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()
    delivered = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    acknowledged_rate = Dec()
    read_rate = Dec()


class AcknowledgementSummary(serializers.Serializer):
    delivered = serializers.IntegerField()
    read = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    acknowledged_on_time = serializers.IntegerField()
    read_rate = Dec()
    acknowledged_rate = Dec()
    on_time_rate = Dec()
    warnings = WarningRate(many=True)


class AcknowledgementsResponse(DashboardHead, AcknowledgementSummary):
    categories = CategoryRate(many=True)


class DashboardColumn(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class RowsResponse(DashboardHead):
    figure = serializers.CharField()
    title = serializers.CharField()
    key = serializers.CharField(allow_blank=True)
    key_label = serializers.CharField(allow_blank=True)
    columns = DashboardColumn(many=True)
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = serializers.ListField(child=serializers.DictField(),
                                    help_text=_("每行按 columns 的 key 取值；url 为下钻链接"))


class DashboardInstitutionRef(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    district = DashboardDistrictRef()


class HistoryYear(serializers.Serializer):
    year = serializers.IntegerField()
    total = Dec()
    colour = serializers.CharField()
    colour_label = serializers.CharField()
    red_line = serializers.BooleanField()
    rank = serializers.IntegerField(help_text=_("区内排名（汇总时保存的名次）"))
    of = serializers.IntegerField(help_text=_("区内有结果的机构数"))
    rank_text = serializers.CharField(help_text=_("区内排名 x/y"))
    category_rank = serializers.IntegerField()
    category_of = serializers.IntegerField(help_text=_("区内同类别有结果的机构数"))
    status = serializers.CharField()
    change = Dec()


class HistoryResponse(serializers.Serializer):
    institution = DashboardInstitutionRef()
    years = HistoryYear(many=True)


class InstitutionItem(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    maximum = Dec()
    own = Dec(help_text=_("本机构该项加权得分（汇总时保存；公示期起机构可见）"))
    average = Dec(help_text=_("全区平均（机构负责人在结果发布后可见）"))
    best = Dec(help_text=_("全区最高（机构负责人在结果发布后可见）"))


class InstitutionItemsResponse(serializers.Serializer):
    institution = DashboardInstitutionRef()
    year = serializers.IntegerField()
    items = InstitutionItem(many=True)


class InstitutionComplaintsResponse(serializers.Serializer):
    institution = DashboardInstitutionRef()
    year = serializers.IntegerField()
    complaints = ComplaintSummary()
    satisfaction = SatisfactionSummary()


class InstitutionEmployeesResponse(serializers.Serializer):
    institution = DashboardInstitutionRef()
    year = serializers.IntegerField()
    employees = serializers.IntegerField()
    colours = ColourShare(many=True)
    acknowledgements = AcknowledgementSummary()


# --- the programme's stored figures (rectifications, trainings, risk alerts) ---------------------


class DashboardRectificationFigures(serializers.Serializer):
    total = serializers.IntegerField(help_text=_("督查发现问题数"))
    open = serializers.IntegerField(help_text=_("整改中"))
    reported = serializers.IntegerField(help_text=_("已报送待审核"))
    overdue = serializers.IntegerField(help_text=_("逾期未整改"))
    closed = serializers.IntegerField(help_text=_("已销号"))
    closed_on_time = serializers.IntegerField(help_text=_("按期销号"))
    on_time_rate = Dec(help_text=_("按期整改率（%）：按期销号 ÷（已销号 + 逾期未整改）"))


class DashboardRectificationInstitution(DashboardRectificationFigures):
    code = serializers.CharField()
    name = serializers.CharField()


class DashboardRectificationClause(DashboardRectificationFigures):
    clause = serializers.CharField(help_text=_("创建规范条号"))


class DashboardRectificationSummary(DashboardRectificationFigures):
    clauses = DashboardRectificationClause(many=True)


class DashboardRectificationsResponse(DashboardHead, DashboardRectificationSummary):
    institutions = DashboardRectificationInstitution(many=True)


class DashboardTrainingFigures(serializers.Serializer):
    employees = serializers.IntegerField(help_text=_("在职员工数"))
    completed = serializers.IntegerField(help_text=_("达到年度培训学时要求的员工数"))
    rate = Dec(help_text=_("培训完成率（%）"))


class DashboardTrainingInstitution(DashboardTrainingFigures):
    code = serializers.CharField()
    name = serializers.CharField()
    hours = Dec(help_text=_("本年度员工培训学时合计"))


class DashboardTrainingSummary(DashboardTrainingFigures):
    required_hours = Dec(help_text=_("年度培训学时要求"))


class DashboardTrainingsResponse(DashboardHead, DashboardTrainingSummary):
    institutions = DashboardTrainingInstitution(many=True)


class DashboardRiskStatusCount(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()


class DashboardRiskRuleCount(serializers.Serializer):
    rule = serializers.CharField()
    title = serializers.CharField()
    count = serializers.IntegerField()


class DashboardRiskInstitution(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    total = serializers.IntegerField()
    by_status = DashboardRiskStatusCount(many=True)
    by_rule = DashboardRiskRuleCount(many=True)
    overdue = serializers.IntegerField(help_text=_("逾期未处理"))
    closed = serializers.IntegerField(help_text=_("已处理（排除、确认、上报）"))
    avg_review_days = Dec(help_text=_("平均处理天数"))
    confirmed_rate = Dec(help_text=_("确认率（%）：（确认 + 上报）÷ 已处理"))


class DashboardRiskResponse(DashboardHead):
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()
    closed = serializers.IntegerField()
    confirmed_rate = Dec()
    by_status = DashboardRiskStatusCount(many=True)
    by_rule = DashboardRiskRuleCount(many=True)
    institutions = DashboardRiskInstitution(many=True)


class InstitutionProgrammeResponse(serializers.Serializer):
    institution = DashboardInstitutionRef()
    year = serializers.IntegerField()
    rectifications = DashboardRectificationSummary()
    trainings = DashboardTrainingSummary()

class IndexComponents(serializers.Serializer):
    score = Dec()
    colour = Dec()
    red_line = Dec()
    complaints = Dec()


class LeagueRow(serializers.Serializer):
    district = DashboardDistrictRef()
    published = serializers.BooleanField(help_text=_("该区县当年结果是否已发布；未发布时结果类数据均为空"))
    rank = serializers.IntegerField(allow_null=True)
    index = Dec(help_text=_("清廉金融指数（0–100），定义见 docs/city-index.md；仅已发布区县"))
    institutions = serializers.IntegerField(help_text=_("已发布结果的机构数"))
    mean_total = Dec()
    colours = ColourShare(many=True, allow_null=True)
    red_lines = serializers.IntegerField(allow_null=True)
    complaints = serializers.IntegerField(help_text=_("当年收到的举报投诉件数（统计数据，任何时候可见）"))
    complaints_per_institution = Dec()
    substantiated = serializers.IntegerField(allow_null=True, help_text=_("汇总扣分所计的属实投诉"))
    partially_substantiated = serializers.IntegerField(allow_null=True)
    satisfaction_rate = Dec()
    components = IndexComponents(allow_null=True)


class LeagueResponse(serializers.Serializer):
    city = DashboardDistrictRef()
    year = serializers.IntegerField()
    districts = LeagueRow(many=True)


class TrendSeries(serializers.Serializer):
    district = DashboardDistrictRef()
    index = serializers.ListField(child=Dec())
    mean_total = serializers.ListField(child=Dec())


class CityTrendResponse(serializers.Serializer):
    city = DashboardDistrictRef()
    years = serializers.ListField(child=serializers.IntegerField())
    series = TrendSeries(many=True)


class StepField(serializers.CharField):
    """The stored progress step (a msgid) in the reader's language."""

    def to_representation(self, value):
        return services.step_label(super().to_representation(value))


class ReportSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", read_only=True)
    district_name = serializers.CharField(source="district.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    step = StepField(read_only=True, help_text=_("当前步骤（读者的语言）"))
    pdf_url = serializers.SerializerMethodField()
    xlsx_url = serializers.SerializerMethodField()

    class Meta:
        model = AnnualReport
        fields = ["id", "district", "district_name", "year", "status", "status_label", "progress", "step",
                  "error", "created_at", "started_at", "finished_at", "pdf_url", "xlsx_url"]
        read_only_fields = fields

    def _url(self, obj, kind: str) -> str | None:
        from django.urls import reverse

        if not getattr(obj, kind):
            return None
        request = self.context.get("request")
        url = reverse(f"api:dashboards-report-{kind}", kwargs={"pk": obj.pk})
        return request.build_absolute_uri(url) if request else url

    def get_pdf_url(self, obj) -> str | None:
        return self._url(obj, "pdf")

    def get_xlsx_url(self, obj) -> str | None:
        return self._url(obj, "xlsx")


class ReportRequestSerializer(serializers.Serializer):
    district = serializers.CharField(required=False, help_text=_("区县行政区划代码（默认：机构最多的区县）"))
    year = serializers.IntegerField(min_value=2000, max_value=2100)
