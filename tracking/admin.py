"""Read-only admin of the tracked items (rectifications, notice returns, alert reviews...) and their
event logs, for the finance center of their districts. Items change only through tracking.services
(the pages and the API), where the state machine and the deadlines are checked."""

from django.contrib import admin

from institutions.admin import FinanceCenterReadOnly, FinanceCenterReadOnlyInline

from .models import Event, TrackedItem


class EventInline(FinanceCenterReadOnlyInline):
    model = Event
    fields = ("at", "action", "actor", "due_on", "note")
    related = ("actor",)


@admin.register(TrackedItem)
class TrackedItemAdmin(FinanceCenterReadOnly):
    list_display = ("id", "title", "institution", "kind", "status", "due_on", "closed_on_time", "returns")
    # No filter by institution (a province lists thousands): search by its name or code instead.
    list_filter = ("status", "kind", ("due_on", admin.DateFieldListFilter), "closed_on_time", "due_provisional")
    search_fields = ("=id", "title", "institution__name", "institution__code")
    list_select_related = ("institution",)
    fields = ("institution", "district", "kind", "title", "detail", "source_app", "source_id", "start_on",
              "working_days", "due_on", "due_provisional", "status", "reported_at", "closed_at", "closed_on_time",
              "returns", "created_by", "created_at", "updated_at")
    readonly_fields = fields
    inlines = [EventInline]

