"""Output shapes of the complaints API (and request shapes for the schema). No rules in here:
what a caller may see is decided by selectors.CasePolicy and passed in the context."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import rules, selectors
from ..deadlines import due_status
from ..models import Complaint, ComplaintEvent, ComplaintExtension, ComplaintNote, EvidenceImage


class ComplaintInstitutionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DeadlineSerializer(serializers.Serializer):
    date = serializers.DateField()
    provisional = serializers.BooleanField()
    basis = serializers.CharField()


class NextDueSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    date = serializers.DateField()
    provisional = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["ok", "due_soon", "overdue"])


class ComplaintListSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    outcome_label = serializers.CharField(source="get_outcome_display")
    basis_label = serializers.CharField(source="get_basis_display")
    reply_state_label = serializers.SerializerMethodField()
    institution = ComplaintInstitutionSerializer()
    district = serializers.CharField(source="institution.district.code", read_only=True)
    ratings = serializers.DictField(child=serializers.IntegerField())
    deadlines = serializers.DictField(child=DeadlineSerializer())
    next_due = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = ["id", "kind", "kind_label", "status", "status_label", "institution", "district", "received_at",
                  "description",
                  "staff_name", "occurred_on", "anonymous", "ratings", "outcome", "outcome_label",
                  "involves_party_member", "channel", "deadlines", "next_due", "overdue", "extensions", "version",
                  "basis", "basis_label", "party_identified_on", "reply_within", "reply_due_on", "reply_state",
                  "reply_state_label"]
        read_only_fields = fields

    def _today(self) -> date:
        today = self.context.get("today")
        if today is None:
            today = self.context["today"] = timezone.localdate()
        return today

    def get_next_due(self, obj: Complaint) -> dict | None:
        if obj.next_due_on is None:
            return None
        entry = obj.deadlines.get(obj.next_due_key, {})
        return {"key": obj.next_due_key, "label": rules.DEADLINE_LABELS.get(obj.next_due_key, obj.next_due_key),
                "date": obj.next_due_on, "provisional": bool(entry.get("provisional")),
                "status": due_status(obj.next_due_on, self._today())}

    def get_reply_state_label(self, obj: Complaint) -> str:
        return obj.get_reply_state_display() if obj.reply_state else ""

    def get_overdue(self, obj: Complaint) -> bool:
        return obj.next_due_on is not None and obj.next_due_on < self._today()


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintEvent
        fields = ["action", "from_status", "to_status", "actor", "at", "reason"]

    def get_actor(self, obj: ComplaintEvent) -> str | None:
        return obj.actor.get_username() if obj.actor_id else None

    def get_reason(self, obj: ComplaintEvent) -> str:
        return obj.reason if self.context["policy"].event_reasons else ""


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_username")

    class Meta:
        model = ComplaintNote
        fields = ["id", "body", "is_public", "author", "author_side", "created_at"]


class ImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceImage
        fields = ["position", "url", "content_type", "width", "height", "original_sha256", "original_size"]

    def get_url(self, obj: EvidenceImage) -> str:
        request = self.context.get("request")
        path = reverse("complaints:case-image", args=[obj.complaint_id, obj.position])
        return request.build_absolute_uri(path) if request else path


class ExtensionRecordSerializer(serializers.ModelSerializer):
    approval = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintExtension
        fields = ["number", "deadline_key", "previous_due_on", "new_due_on", "reason", "approval", "at"]

    def get_approval(self, obj: ComplaintExtension) -> str:
        return obj.approval if self.context.get("approval") else ""


class TrackedItemRefSerializer(serializers.Serializer):
    """交办: the tracked item (督办事项) the institution replies on (tracking's pages)."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    due_on = serializers.DateField()


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()


class ComplaintDetailSerializer(ComplaintListSerializer):
    events = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()
    images = serializers.SerializerMethodField()
    contact = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    extension_records = serializers.SerializerMethodField()
    tracked_item = serializers.SerializerMethodField()
    merged_into = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(ComplaintListSerializer.Meta):
        fields = [*ComplaintListSerializer.Meta.fields, "reject_reason", "accepted_at", "forwarded_at",
                  "referred_at", "concluded_at", "closed_at", "merged_into", "events", "notes", "images", "contact",
                  "allowed_actions", "extension_records", "tracked_item"]
        read_only_fields = fields

    def get_events(self, obj: Complaint) -> list[dict]:
        events = selectors.events_for(obj, self.context["policy"])
        return EventSerializer(events, many=True, context=self.context).data

    def get_notes(self, obj: Complaint) -> list[dict]:
        return NoteSerializer(self.context["notes"], many=True).data

    def get_images(self, obj: Complaint) -> list[dict]:
        if not self.context["policy"].images:
            return []
        return ImageSerializer(obj.images.all(), many=True, context=self.context).data

    def get_contact(self, obj: Complaint) -> dict | None:
        identity = self.context.get("identity")
        return {"name": identity.name, "phone": identity.phone} if identity else None

    def get_allowed_actions(self, obj: Complaint) -> list[str]:
        return self.context["allowed_actions"]

    @extend_schema_field(TrackedItemRefSerializer(allow_null=True))
    def get_tracked_item(self, obj: Complaint) -> dict | None:
        item = self.context.get("tracked_item")
        if item is None:
            return None
        return {"id": item.pk, "status": item.status, "status_label": item.get_status_display(), "due_on": item.due_on}

    @extend_schema_field(ExtensionRecordSerializer(many=True))
    def get_extension_records(self, obj: Complaint) -> list[dict]:
        return ExtensionRecordSerializer(obj.extension_records.all(), many=True,
                                         context={"approval": self.context["policy"].event_reasons}).data


# --- request bodies (for validation of types and the OpenAPI schema) ------------------------


class ActionRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    outcome = serializers.ChoiceField(choices=Complaint.Outcome.choices, required=False)
    reply = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    approval = serializers.CharField(required=False, allow_blank=True, max_length=500)
    target = serializers.IntegerField(required=False, help_text=gettext_lazy("merge（合并）：并入的目标案件"))
    basis = serializers.ChoiceField(choices=Complaint.Basis.choices, required=False,
                                    help_text=gettext_lazy(
                                        "set_basis：办理依据（financial 金融监管规定 / xinfang 信访工作条例）"))
    reply_within = serializers.IntegerField(required=False, min_value=1, max_value=60,
                                            help_text=gettext_lazy(
                                                "refer_institution：机构回复期限（工作日，1–60；默认按设置）"))
    version = serializers.IntegerField(required=False, help_text=gettext_lazy("乐观锁：您所看到的版本号"))


class NoteRequestSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=4000)
    public = serializers.BooleanField(required=False, default=False)


class RevealRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class PublicSubmitRequestSerializer(serializers.Serializer):
    """公众提交内容的结构说明。"""

    # documentation only: complaints.intake validates

    public_code = serializers.CharField(required=False)
    institution_code = serializers.CharField(required=False)
    kind = serializers.ChoiceField(choices=Complaint.Kind.choices)
    description = serializers.CharField(required=False, max_length=2000)
    staff_name = serializers.CharField(required=False, max_length=50)
    occurred_on = serializers.DateField(required=False)
    contact_name = serializers.CharField(required=False)
    contact_phone = serializers.CharField(required=False)
    anonymous = serializers.BooleanField(required=False)
    ratings = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5), required=False,
                                    help_text=gettext_lazy('各项评分 1-5：{"attitude": 服务态度, '
                                                           '"efficiency": 办事效率, "integrity": 廉洁自律}'))
    images = serializers.ListField(child=serializers.ImageField(), required=False, max_length=3)


class PublicReceiptSerializer(serializers.Serializer):
    receipt_code = serializers.CharField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()


class PublicReplySerializer(serializers.Serializer):
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class TimelineSerializer(serializers.Serializer):
    label = serializers.CharField()
    at = serializers.DateTimeField()


class PublicExtensionSerializer(serializers.Serializer):
    new_due_on = serializers.DateField(help_text=gettext_lazy("延长后的办理期限"))
    reason = serializers.CharField(help_text=gettext_lazy("延期理由"))
    at = serializers.DateTimeField()


class PublicStatusSerializer(serializers.Serializer):
    status = serializers.CharField()
    status_label = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    institution = serializers.DictField()
    received_at = serializers.DateTimeField()
    merged = serializers.BooleanField()
    outcome = serializers.CharField(allow_blank=True)
    outcome_label = serializers.CharField(allow_blank=True)
    reject_reason = serializers.CharField(allow_blank=True)
    timeline = TimelineSerializer(many=True)
    replies = PublicReplySerializer(many=True)
    due_on = serializers.DateField(allow_null=True,
                                   help_text=gettext_lazy("办理期限（作出处理决定或办结；已出结论后为空）"))
    extensions = PublicExtensionSerializer(many=True, help_text=gettext_lazy("延长办理期限的记录：新的期限和理由"))


def public_status_data(view) -> dict:
    shown: Complaint = view.shown
    closed = shown.status == rules.CLOSED
    return {
        "status": shown.status, "status_label": shown.get_status_display(),
        "kind": view.case.kind, "kind_label": view.case.get_kind_display(),
        "institution": {"name": view.case.institution.name},
        "received_at": view.case.received_at, "merged": view.merged,
        # The outcome is told once the case is closed with its reply.
        "outcome": shown.outcome if closed else "", "outcome_label": shown.get_outcome_display() if closed else "",
        "reject_reason": shown.reject_reason if shown.status == rules.REJECTED else "",
        "timeline": [{"label": label, "at": at} for label, at in view.timeline],
        "replies": [{"body": r.body, "created_at": r.created_at} for r in view.replies],
        "due_on": view.due_on,
        "extensions": [{"new_due_on": x.new_due_on, "reason": x.reason, "at": x.at} for x in view.extensions],
    }
