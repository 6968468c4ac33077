"""Read-only admin of the inspection plans, visits and findings, for the finance center of their
districts. Visits and findings are recorded on the inspection pages and through the API (services:
numbering, deadlines, the tracked items); files (photos, notices) are downloaded there, through the
portal's permission checks, never by a storage link here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from institutions.admin import (
    DistrictScopedReadOnly,
    FinanceCenterReadOnly,
    FinanceCenterReadOnlyInline,
    page_link,
)

from .models import Finding, Plan, PlanEntry, Visit


class PlanEntryInline(FinanceCenterReadOnlyInline):
    model = PlanEntry
    fields = ("month", "institution", "kind", "team", "joint_with_discipline", "notes")
    related = ("institution",)


@admin.register(Plan)
class PlanAdmin(DistrictScopedReadOnly):
    list_display = ("year", "district", "title", "created_at")
    list_filter = ("year",)
    list_select_related = ("district",)
    fields = ("district", "year", "title", "created_by", "created_at")
    readonly_fields = fields
    inlines = [PlanEntryInline]


class FindingInline(FinanceCenterReadOnlyInline):
    model = Finding
    fields = ("clause_number", "severity", "description", "rectify_within", "tracked_item")
    related = ("tracked_item",)


@admin.register(Visit)
class VisitAdmin(FinanceCenterReadOnly):
    list_display = ("visited_on", "institution", "kind", "joint_with_discipline", "notice_number", "open_link")
    list_filter = (("visited_on", admin.DateFieldListFilter), "kind", "joint_with_discipline")
    search_fields = ("=id", "institution__name", "institution__code", "notice_number")
    list_select_related = ("institution",)
    fields = ("institution", "district", "visited_on", "kind", "joint_with_discipline", "team_names",
              "people_met", "notes", "plan_entry", "notice_number", "notice_issued_at", "created_by", "created_at",
              "open_link")
    readonly_fields = fields
    inlines = [FindingInline]

    open_link = page_link("inspections:visit", _("督查页面"))

    @admin.display(description=_("检查组成员"))
    def team_names(self, obj):
        """The members as the visit page lists them (李慧、周明), not the stored JSON list."""
        return "、".join(str(name) for name in obj.team or ()) or "-"


@admin.register(Finding)
class FindingAdmin(FinanceCenterReadOnly):
    list_display = ("id", "institution", "year", "clause_number", "severity", "rectify_within", "tracked_item")
    list_filter = ("year", "severity")
    search_fields = ("=id", "description", "institution__name", "institution__code", "=clause_number")
    list_select_related = ("institution", "tracked_item")
    fields = ("visit", "institution", "district", "year", "clause", "clause_number", "severity", "description",
              "rectify_within", "tracked_item", "created_by", "created_at")
    readonly_fields = fields
