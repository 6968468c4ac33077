"""Shapes of the inspections API (field names are the contract of API.md; more may be added, none renamed)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Finding, Severity, Visit, VisitKind


class InspectionInstitutionRef(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class InspectionVisitCreateSerializer(serializers.Serializer):
    institution_code = serializers.CharField(max_length=32)
    visited_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=VisitKind.choices, default=VisitKind.PLANNED)
    team = serializers.JSONField(required=False, default=list, help_text=_("检查组成员姓名列表"))
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    people_met = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    joint_with_discipline = serializers.BooleanField(required=False, default=False)


class InspectionFindingCreateSerializer(serializers.Serializer):
    clause = serializers.CharField(max_length=10, help_text=_("“项号.条号”，如 3.2"))
    description = serializers.CharField(max_length=5000)
    severity = serializers.ChoiceField(choices=Severity.choices)
    rectify_within = serializers.IntegerField(min_value=1, max_value=250, help_text=_("整改期限（工作日）"))


class InspectionBonusCreateSerializer(serializers.Serializer):
    indicator = serializers.CharField(max_length=20, help_text=_("加分项指标编码"))
    evidence = serializers.CharField(max_length=5000)


class RectificationReportSerializer(serializers.Serializer):
    measures = serializers.CharField(max_length=10000)


class RectificationReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    rectify_within = serializers.IntegerField(min_value=1, max_value=250, required=False, allow_null=True)


class RectificationAcceptSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RectificationSerializer(serializers.ModelSerializer):
    """一个问题的整改情况（即 API.md 中的 item）。"""

    institution = InspectionInstitutionRef()
    clause = serializers.CharField(source="clause_number")
    due_on = serializers.DateField(source="tracked_item.due_on")
    status = serializers.CharField(source="tracked_item.status")
    status_label = serializers.CharField(source="tracked_item.get_status_display")
    overdue = serializers.SerializerMethodField()
    district = serializers.CharField(source="district.code")
    severity_label = serializers.CharField(source="get_severity_display")
    visit = serializers.IntegerField(source="visit_id")
    visited_on = serializers.DateField(source="visit.visited_on")
    notice_number = serializers.CharField(source="visit.notice_number")
    returns = serializers.IntegerField(source="tracked_item.returns")

    class Meta:
        model = Finding
        fields = ["id", "institution", "clause", "severity", "severity_label", "description", "rectify_within",
                  "due_on", "status", "status_label", "overdue", "district", "visit", "visited_on", "notice_number",
                  "returns", "created_at"]

    def get_overdue(self, obj) -> bool:
        value = getattr(obj, "overdue", None)
        return bool(obj.tracked_item.is_overdue() if value is None else value)


class RectificationReplySerializer(serializers.Serializer):
    measures = serializers.CharField()
    created_at = serializers.DateTimeField()
    on_time = serializers.BooleanField()
    files = serializers.SerializerMethodField()

    def get_files(self, obj) -> list[dict]:
        return [{"id": f.pk, "name": f.name, "size": f.size, "sha256": f.sha256} for f in obj.files.all()]


class RectificationEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    action_label = serializers.CharField(source="get_action_display")
    note = serializers.CharField()
    due_on = serializers.DateField()
    at = serializers.DateTimeField()


class RectificationDetailSerializer(RectificationSerializer):
    replies = RectificationReplySerializer(source="tracked_item.replies", many=True)
    history = RectificationEventSerializer(source="tracked_item.events", many=True)

    class Meta(RectificationSerializer.Meta):
        fields = [*RectificationSerializer.Meta.fields, "replies", "history"]


class InspectionVisitSerializer(serializers.ModelSerializer):
    institution = InspectionInstitutionRef()
    institution_code = serializers.CharField(source="institution.code")
    district = serializers.CharField(source="district.code")
    kind_label = serializers.CharField(source="get_kind_display")
    findings_count = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = ["id", "institution", "institution_code", "district", "visited_on", "kind", "kind_label",
                  "joint_with_discipline", "team", "people_met", "notes", "notice_number", "findings_count",
                  "created_at"]

    def get_findings_count(self, obj) -> int:
        value = getattr(obj, "findings_count", None)
        return obj.findings.count() if value is None else value


class InspectionVisitDetailSerializer(InspectionVisitSerializer):
    findings = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    bonuses = serializers.SerializerMethodField()

    class Meta(InspectionVisitSerializer.Meta):
        fields = [*InspectionVisitSerializer.Meta.fields, "findings", "photos", "bonuses"]

    def get_findings(self, obj) -> list[dict]:
        out = []
        for f in obj.findings.all():
            f.district = obj.district
            f.institution = obj.institution
            f.visit = obj
            out.append(RectificationSerializer(f).data)
        return out

    def get_photos(self, obj) -> list[dict]:
        return [{"id": p.pk, "position": p.position, "width": p.width, "height": p.height,
                 "taken_at": p.taken_at, "place": p.place, "sha256": p.original_sha256} for p in obj.photos.all()]

    def get_bonuses(self, obj) -> list[dict]:
        return [{"indicator": b.indicator.code, "title": b.indicator.title, "evidence": b.evidence}
                for b in obj.bonus_confirmations.all()]
