"""风险预警 API shapes (RISK.md "API": field names are a contract)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from institutions.models import Employee

from .. import rules
from ..models import Alert, Kind, Screening, Suppression, Upload


@extend_schema_field({"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                      "required": ["code", "name"]})
class InstitutionRefField(serializers.Field):
    """`{"code", "name"}` as every institution reference of the API (API.md)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, institution):
        return {"code": institution.code, "name": institution.name}


class DistrictCodeMixin(serializers.Serializer):
    district = serializers.SerializerMethodField()

    def get_district(self, obj) -> str:
        return obj.institution.district.code


class EmployeeSerializer(DistrictCodeMixin, serializers.ModelSerializer):
    institution = InstitutionRefField()

    class Meta:
        model = Employee
        fields = ["employee_no", "name", "department", "position", "institution", "district"]


class UploadSerializer(serializers.ModelSerializer):
    institution = InstitutionRefField()

    class Meta:
        model = Upload
        fields = ["id", "kind", "rows", "filename", "institution", "created_at"]


class UploadCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices,
                                   error_messages={"invalid_choice": gettext_lazy(
                                       "kind 须为 transactions/relationships/events")})
    file = serializers.FileField()
    institution = serializers.CharField(required=False, allow_blank=True, default="")


class ScreeningSerializer(serializers.ModelSerializer):
    institution = InstitutionRefField()
    # "from" is a Python keyword: declared in get_fields
    to = serializers.DateField(source="date_to", read_only=True)

    class Meta:
        model = Screening
        fields = ["id", "institution", "to", "status", "progress", "alerts_created", "alerts_total", "rules_run",
                  "error", "created_at", "started_at", "finished_at"]

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(source="date_from", read_only=True)
        return fields


class ScreeningCreateSerializer(serializers.Serializer):
    to = serializers.DateField()
    institution = serializers.CharField(required=False, allow_blank=True, default="")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields

    def validate(self, attrs):
        if attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": _("起始日期不能晚于截止日期")})
        return attrs


class AlertSerializer(DistrictCodeMixin, serializers.ModelSerializer):
    institution = InstitutionRefField()
    counterparty_id = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = ["id", "rule", "title", "severity", "employee_no", "counterparty_id", "period", "status", "due_on",
                  "overdue", "evidence", "rule_version", "params", "raised_on", "institution", "district", "assignee",
                  "note", "point_record_id", "forwarded_to"]

    def get_counterparty_id(self, alert) -> str | None:
        return alert.counterparty_id if rules.RULES[alert.rule].keyed_by_counterparty else None

    def get_overdue(self, alert) -> bool:
        from ..selectors import is_overdue

        return is_overdue(alert, self.context.get("today"))

    def get_title(self, alert) -> str:
        return rules.RULES[alert.rule].title


class AlertActionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    violation_code = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(required=False, allow_null=True, default=None)


class ForwardSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=100)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class RuleSettingSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False, allow_null=True, default=None)
    params = serializers.DictField(required=False, default=dict)
    reason = serializers.CharField(max_length=2000)
    institution = serializers.CharField(required=False, allow_blank=True, default="")


class SuppressionSerializer(serializers.ModelSerializer):
    institution = serializers.CharField(required=False, allow_blank=True, default="", write_only=True)

    class Meta:
        model = Suppression
        fields = ["id", "rule", "employee_no", "counterparty_id", "period", "reason", "created_at", "institution"]
        read_only_fields = ["id", "created_at"]
