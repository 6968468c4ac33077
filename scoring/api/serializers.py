from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Assessment, Indicator, NormItem, Norms, Result, Scheme, SheetEntry


def plain(value: Decimal | None) -> str | None:
    """Decimal as a JSON string without trailing zeros: "0.2", "10", "40"."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


@extend_schema_field({"type": "string", "format": "decimal", "example": "0.2", "nullable": True})
class PlainDecimalField(serializers.Field):
    def to_representation(self, value):
        return plain(value)


@extend_schema_field({"type": "string", "example": "96.00"})
class CentsField(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=6, decimal_places=2, coerce_to_string=True, **kwargs)


class ClauseSerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()


class ItemSerializer(serializers.ModelSerializer):
    clauses = ClauseSerializer(many=True)

    class Meta:
        model = NormItem
        fields = ["number", "title", "clauses"]


class NormsSerializer(serializers.ModelSerializer):
    items = ItemSerializer(many=True)

    class Meta:
        model = Norms
        fields = ["year", "title", "items"]


class IndicatorSerializer(serializers.ModelSerializer):
    clause = serializers.CharField(source="clause.number", allow_null=True, default=None)
    max_points = PlainDecimalField()

    class Meta:
        model = Indicator
        fields = ["code", "kind", "clause", "max_points", "title", "guidance", "requires_evidence"]


class WeightsSerializer(serializers.Serializer):
    self = PlainDecimalField(source="weight_self")
    inspection = PlainDecimalField(source="weight_inspection")
    third_party = PlainDecimalField(source="weight_third_party")


class BandsSerializer(serializers.Serializer):
    green = PlainDecimalField(source="band_green")
    blue = PlainDecimalField(source="band_blue")
    yellow = PlainDecimalField(source="band_yellow")


class SchemeSerializer(serializers.ModelSerializer):
    """区县该年度的评分方案（本区县自定的，或系统模板），并附该区县年度所处阶段：`status` 为 `draft`、
    `active`、`notice`（公示期）或 `published`。"""

    weights = WeightsSerializer(source="*")
    bands = BandsSerializer(source="*")
    bonus_cap = PlainDecimalField()
    complaint_deduction = PlainDecimalField()
    complaint_deduction_cap = PlainDecimalField()
    indicators = IndicatorSerializer(many=True)

    class Meta:
        model = Scheme
        fields = ["year", "weights", "bonus_cap", "complaint_deduction", "complaint_deduction_cap", "bands",
                  "linkage", "linkage_uses", "indicators", "status", "self_due_date", "review_due_date",
                  "notice_ends_on", "published_at", "district", "template"]

    status = serializers.SerializerMethodField()
    notice_ends_on = serializers.SerializerMethodField()
    published_at = serializers.SerializerMethodField()
    district = serializers.SerializerMethodField()
    template = serializers.BooleanField(source="is_template", read_only=True)

    def _year(self):
        return self.context.get("district_year")

    def get_status(self, scheme) -> str:
        year = self._year()
        if scheme.status == "draft" or year is None or year.status == "open":
            return scheme.status
        return year.status

    def get_notice_ends_on(self, scheme) -> str | None:
        year = self._year()
        return year.notice_ends_on.isoformat() if year and year.notice_ends_on else None

    def get_published_at(self, scheme) -> str | None:
        year = self._year()
        return serializers.DateTimeField().to_representation(year.published_at) if year and year.published_at else None

    def get_district(self, scheme) -> str | None:
        district = self.context.get("district")
        return district.code if district else None


class InstitutionBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()


class LinkageSerializer(serializers.Serializer):
    """`linkage`（见 API.md）：{用途: 代码}，共三种结果运用用途。"""

    # fiscal_tender is kept from v1

    fiscal_tender = serializers.CharField()
    party_building = serializers.CharField()
    performance_appraisal = serializers.CharField()


class LinkagePointsSerializer(serializers.Serializer):
    """`linkage_points`（见 API.md）：{用途: 加分（+）或扣分（−）}，十进制字符串。"""

    fiscal_tender = CentsField(source="fiscal_tender_points")
    party_building = CentsField(source="party_building_points")
    performance_appraisal = CentsField(source="performance_appraisal_points")


class ResultSerializer(serializers.ModelSerializer):
    institution = InstitutionBriefSerializer()
    district = serializers.CharField(source="district.code", read_only=True)
    basic = CentsField()
    bonus = CentsField()
    deduction = CentsField()
    total = CentsField()
    sources = serializers.ListField(child=serializers.CharField())
    linkage = LinkageSerializer(source="*")
    linkage_points = LinkagePointsSerializer(source="*")
    linkage_labels = serializers.DictField(  # i18n-exempt: the example is a stored label value (API.md)
        child=serializers.CharField(), read_only=True,
        help_text="each use's Chinese label, e.g. {\"fiscal_tender\": \"优先\"}")

    class Meta:
        model = Result
        fields = ["institution", "year", "basic", "bonus", "deduction", "total", "red_line", "colour", "rank",
                  "category_rank", "status", "sources", "linkage", "linkage_points", "linkage_labels",
                  "complaints_substantiated",
                  "complaints_partial", "computed_at", "district"]


class EntryValueSerializer(serializers.Serializer):
    points = serializers.CharField(allow_null=True, required=False)
    hit = serializers.BooleanField(allow_null=True, required=False)
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)
    version = serializers.IntegerField(required=False, min_value=0,
                                       help_text=_("所编辑条目的版本号；版本过旧时返回 409"))


class EntrySerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator.code")
    points = PlainDecimalField()
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = SheetEntry
        fields = ["indicator", "points", "hit", "note", "version", "updated_at", "evidence"]

    def get_evidence(self, entry) -> list[dict]:
        return [{"name": e.original_name, "size": e.size, "sha256": e.sha256} for e in entry.evidence.all()]


class SheetSummarySerializer(serializers.Serializer):
    source = serializers.CharField()
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    returned_reason = serializers.CharField()
    filled = serializers.IntegerField()


class AssessmentSerializer(serializers.ModelSerializer):
    institution = InstitutionBriefSerializer()
    district = serializers.CharField(source="institution.district.code", read_only=True)
    sheets = serializers.SerializerMethodField()
    indicators_total = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = ["id", "institution", "year", "state", "sheets", "indicators_total", "district"]

    def get_sheets(self, obj) -> list[dict]:
        sheets = self.context.get("sheets", {}).get(obj.pk, [])
        return SheetSummarySerializer(sheets, many=True).data

    def get_indicators_total(self, obj) -> int:
        return self.context.get("indicator_counts", {}).get(obj.scheme_id, 0)


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class AggregationRequestSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    district = serializers.CharField(required=False, allow_blank=True, max_length=12,
                                     help_text=_("区县代码；只被授权一个区县时可省略"))


class YearActionSerializer(serializers.Serializer):
    district = serializers.CharField(required=False, allow_blank=True, max_length=12,
                                     help_text=_("区县代码；只被授权一个区县时可省略"))
