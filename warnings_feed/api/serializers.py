"""Shapes of the warnings API (field names are the contract of API.md; more may be added, none renamed).

Serializers only shape: masking is decided by presentation.py, rules by services.py.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from institutions.models import InstitutionCategory

from .. import presentation
from ..models import CaseType, Scope, Severity, Warning


class WarningCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField()
    case_type = serializers.ChoiceField(choices=CaseType.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    scope = serializers.ChoiceField(choices=Scope.choices)
    category = serializers.ChoiceField(choices=InstitutionCategory.choices, required=False, allow_blank=True,
                                       default="")
    institution_code = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    district = serializers.CharField(required=False, allow_blank=True, default="", max_length=12,
                                     help_text=_("行政区划代码；省略时为您负责的唯一区县（负责多个区县时须填写）"))
    is_public = serializers.BooleanField(default=False)
    names = serializers.ListField(child=serializers.CharField(max_length=50), required=False, default=list,
                                  max_length=50, help_text=_("文中人员的真实姓名（显示时一律脱敏为“黄某”）"))
    publish_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                           help_text=_("省略为立即发布；晚于当前时间为定时发布"))


def _reveals(context: dict, warning: Warning) -> bool:
    """Names shown unmasked: `reveal_names` in the context, narrowed to the warnings of the
    reader's own districts when the context names the `reader`."""
    if not context.get("reveal_names"):
        return False
    reader = context.get("reader")
    return reader is None or presentation.reveals_names(reader, warning)


@extend_schema_field(OpenApiTypes.STR)
class _ShownText(serializers.Field):
    """title / body as the caller may see them: masked unless the caller is the finance center."""

    def __init__(self, attribute: str, **kwargs):
        self.attribute = attribute
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, warning: Warning) -> str:
        reveal = _reveals(self.context, warning)
        if self.attribute == "title":
            return presentation.title_for(warning, reveal_names=reveal)
        return presentation.body_for(warning, reveal_names=reveal)


class _ShownList(serializers.ListSerializer):
    """A page of warnings: the registry's names for the masking fetched once for the page."""

    def to_representation(self, data) -> list:
        warnings = list(data.all() if hasattr(data, "all") else data)
        presentation.attach_registry([w for w in warnings if not _reveals(self.context, w)])
        return super().to_representation(warnings)


class PublicWarningSerializer(serializers.ModelSerializer):
    title = _ShownText("title")
    body = _ShownText("body")
    case_type_label = serializers.CharField(source="get_case_type_display", read_only=True)
    severity_label = serializers.CharField(source="get_severity_display", read_only=True)
    published_at = serializers.DateTimeField(source="publish_at", read_only=True)

    class Meta:
        model = Warning
        fields = ["id", "title", "body", "case_type", "case_type_label", "severity", "severity_label", "issuer",
                  "published_at"]
        read_only_fields = fields
        list_serializer_class = _ShownList


class WarningSerializer(serializers.ModelSerializer):
    """警示信息列表中的一条：调用者可见的警示信息内容，及调用者本人的阅读状态。"""

    title = _ShownText("title")
    body = _ShownText("body")
    case_type_label = serializers.CharField(source="get_case_type_display", read_only=True)
    severity_label = serializers.CharField(source="get_severity_display", read_only=True)
    district = serializers.CharField(source="district.code", read_only=True)
    category = serializers.SerializerMethodField()
    institution_code = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    read = serializers.SerializerMethodField()
    acknowledged = serializers.SerializerMethodField()
    read_at = serializers.SerializerMethodField()
    acknowledged_at = serializers.SerializerMethodField()

    class Meta:
        model = Warning
        fields = ["id", "title", "body", "case_type", "case_type_label", "severity", "severity_label", "scope",
                  "category", "institution_code", "district", "is_public", "issuer", "publish_at", "status",
                  "read", "acknowledged", "read_at", "acknowledged_at"]
        read_only_fields = fields
        list_serializer_class = _ShownList

    def to_representation(self, warning: Warning) -> dict:
        data = super().to_representation(warning)
        if _reveals(self.context, warning):
            # The finance center (of the warning's district) only: the recorded names and how many employees it reached.
            data["names"] = list(warning.names or [])
            data["recipients"] = warning.recipients
        return data

    def get_category(self, warning: Warning) -> str | None:
        return warning.category or None

    def get_institution_code(self, warning: Warning) -> str | None:
        return warning.institution.code if warning.institution_id else None

    def get_status(self, warning: Warning) -> str:
        return presentation.status_of(warning, self.context.get("now") or timezone.now())

    def get_read(self, warning: Warning) -> bool:
        return getattr(warning, "my_read_at", None) is not None

    def get_acknowledged(self, warning: Warning) -> bool:
        return getattr(warning, "my_acknowledged_at", None) is not None

    def get_read_at(self, warning: Warning) -> str | None:
        value = getattr(warning, "my_read_at", None)
        return serializers.DateTimeField().to_representation(value) if value else None

    def get_acknowledged_at(self, warning: Warning) -> str | None:
        value = getattr(warning, "my_acknowledged_at", None)
        return serializers.DateTimeField().to_representation(value) if value else None


class RatesSerializer(serializers.Serializer):
    institution_code = serializers.CharField(source="code")
    institution_name = serializers.CharField(source="name")
    delivered = serializers.IntegerField()
    read = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    acknowledged_on_time = serializers.IntegerField(source="on_time")
    read_rate = serializers.FloatField(allow_null=True)
    acknowledged_rate = serializers.FloatField(allow_null=True)
