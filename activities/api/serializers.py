"""Serializers of the activities API: rows out, and the shapes of the writes (parsing only)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from institutions.models import InstitutionCategory

from ..models import (
    Activity,
    ActivityKind,
    Audience,
    KindCategory,
    Notice,
    NoticeRecipient,
    ReturnKind,
    TrainingSession,
)


class ActivityInstitutionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ActivityKindSerializer(serializers.ModelSerializer):
    category_label = serializers.CharField(source="get_category_display", read_only=True)

    class Meta:
        model = ActivityKind
        fields = ["id", "category", "category_label", "name"]


class ActivitySerializer(serializers.ModelSerializer):
    institution = ActivityInstitutionSerializer(read_only=True)
    district = serializers.CharField(source="institution.district.code", read_only=True)
    kind = ActivityKindSerializer(read_only=True)
    clauses = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = ["id", "institution", "district", "kind", "title", "held_on", "year", "place", "organiser",
                  "participant_count", "participants", "description", "clauses", "files", "created_at"]

    def get_clauses(self, obj) -> list[str]:
        return [c.number for c in obj.clauses.all()]

    def get_participants(self, obj) -> list[str]:
        return [e.employee_no for e in obj.participants.all()]

    def get_files(self, obj) -> list[dict]:
        return [{"id": f.pk, "kind": f.kind, "name": f.original_name, "size": f.size} for f in obj.files.all()]


class ActivityWriteSerializer(serializers.Serializer):
    institution_code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    kind = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    title = serializers.CharField(max_length=200)
    held_on = serializers.DateField()
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    organiser = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    participants = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list,
                                         max_length=5000, help_text=_("员工工号"))
    participant_count = serializers.IntegerField(min_value=0, max_value=100000, required=False, default=0)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    clauses = serializers.ListField(child=serializers.CharField(max_length=10), required=False, default=list,
                                    max_length=100, help_text=_('条号，如 "1.1"'))


class ActivityFilterSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    institution = serializers.CharField(max_length=32, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=KindCategory.choices, required=False, allow_blank=True)
    clause = serializers.CharField(max_length=10, required=False, allow_blank=True)


class TrainingSerializer(serializers.ModelSerializer):
    institution = ActivityInstitutionSerializer(read_only=True)
    district = serializers.CharField(source="institution.district.code", read_only=True)
    attendees = serializers.IntegerField(read_only=True)
    clauses = serializers.SerializerMethodField()

    class Meta:
        model = TrainingSession
        fields = ["id", "institution", "district", "title", "held_on", "year", "hours", "trainer", "place",
                  "is_warning_education", "description", "attendees", "clauses"]

    def get_clauses(self, obj) -> list[str]:
        return [c.number for c in obj.clauses.all()]


class TrainingWriteSerializer(serializers.Serializer):
    institution_code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200)
    held_on = serializers.DateField()
    hours = serializers.DecimalField(max_digits=4, decimal_places=1)
    trainer = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    is_warning_education = serializers.BooleanField(required=False, default=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    clauses = serializers.ListField(child=serializers.CharField(max_length=10), required=False, default=list,
                                    max_length=100)


class TrainingAttendanceSerializer(serializers.Serializer):
    employees = serializers.ListField(child=serializers.CharField(max_length=32), max_length=5000,
                                      help_text=_("签到员工的工号（替换原有签到）"))


class TrainingCompletionSerializer(serializers.Serializer):
    institution = ActivityInstitutionSerializer()
    year = serializers.IntegerField()
    employees = serializers.IntegerField()
    completed = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    required_hours = serializers.DecimalField(max_digits=5, decimal_places=1)


class NoticeSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", read_only=True)
    campaign = serializers.SerializerMethodField()
    clause = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = ["id", "district", "campaign", "title", "body", "audience", "category", "return_kind",
                  "return_instructions", "return_within", "return_due_on", "clause", "published_at", "attachments"]

    def get_campaign(self, obj) -> dict | None:
        return {"id": obj.campaign_id, "title": obj.campaign.title} if obj.campaign_id else None

    def get_clause(self, obj) -> str | None:
        return obj.clause.number if obj.clause_id else None

    def get_attachments(self, obj) -> list[dict]:
        return [{"id": a.pk, "name": a.original_name, "size": a.size} for a in obj.attachments.all()]


class NoticeWriteSerializer(serializers.Serializer):
    district = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000)
    audience = serializers.ChoiceField(choices=Audience.choices, default=Audience.DISTRICT)
    category = serializers.ChoiceField(choices=InstitutionCategory.choices, required=False, allow_blank=True,
                                       default="")
    institutions = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list,
                                         max_length=1000, help_text=_("机构编码（发送范围为指定机构时）"))
    campaign = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False, allow_null=True,
                                        default=None)
    clause = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    return_kind = serializers.ChoiceField(choices=ReturnKind.choices, required=False, allow_blank=True, default="")
    return_within = serializers.IntegerField(min_value=1, max_value=250, required=False, allow_null=True,
                                             default=None, help_text=_("报送期限（工作日）"))
    return_instructions = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class NoticeReturnSerializer(serializers.ModelSerializer):
    notice = serializers.SerializerMethodField()
    institution = ActivityInstitutionSerializer(read_only=True)
    district = serializers.CharField(source="institution.district.code", read_only=True)
    status = serializers.CharField(source="return_status", read_only=True)
    overdue = serializers.SerializerMethodField()
    tracked_item = serializers.IntegerField(source="tracked_item_id", read_only=True)

    class Meta:
        model = NoticeRecipient
        fields = ["id", "notice", "institution", "district", "read_at", "status", "due_on", "overdue",
                  "return_text", "return_file_name", "returned_at", "decided_at", "decision_reason", "tracked_item"]

    def get_notice(self, obj) -> dict:
        return {"id": obj.notice_id, "title": obj.notice.title}

    def get_overdue(self, obj) -> bool:
        from .. import selectors

        return selectors.is_late(obj)


class NoticeReturnSubmitSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    file = serializers.FileField(required=False, allow_null=True, default=None)


class NoticeReturnDecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    working_days = serializers.IntegerField(min_value=1, max_value=250, required=False, allow_null=True,
                                            default=None)
