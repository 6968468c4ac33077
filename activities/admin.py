"""Read-only admin of the year's activities, trainings, campaigns and notices, for the finance
center of their districts. They are registered, edited and answered on the activities pages and
through the API (services: hours, returns, evidence links); files are downloaded there, through the
portal's permission checks. The activity kinds are managed on /activities/kinds/."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from institutions.admin import DistrictScopedReadOnly, FinanceCenterReadOnly, page_link

from .models import Activity, Campaign, Notice, TrainingSession


@admin.register(Activity)
class ActivityAdmin(FinanceCenterReadOnly):
    list_display = ("held_on", "title", "institution", "kind", "participant_count", "open_link")
    list_filter = ("year", "kind")
    search_fields = ("=id", "title", "institution__name", "institution__code")
    list_select_related = ("institution", "kind")
    fields = ("institution", "kind", "title", "held_on", "year", "place", "organiser", "participant_count",
              "description", "created_by", "created_at", "updated_at", "open_link")
    readonly_fields = fields

    open_link = page_link("activities:activity", _("活动页面"))


@admin.register(TrainingSession)
class TrainingSessionAdmin(FinanceCenterReadOnly):
    list_display = ("held_on", "title", "institution", "hours", "is_warning_education", "open_link")
    list_filter = ("year", "is_warning_education")
    search_fields = ("=id", "title", "trainer", "institution__name", "institution__code")
    list_select_related = ("institution",)
    fields = ("institution", "title", "held_on", "year", "hours", "trainer", "place", "is_warning_education",
              "description", "created_by", "created_at", "open_link")
    readonly_fields = fields

    open_link = page_link("activities:training", _("培训页面"))


@admin.register(Campaign)
class CampaignAdmin(DistrictScopedReadOnly):
    list_display = ("starts_on", "ends_on", "title", "district", "kind", "open_link")
    list_filter = ("kind", ("starts_on", admin.DateFieldListFilter))
    search_fields = ("=id", "title")
    list_select_related = ("district",)
    fields = ("district", "kind", "title", "description", "starts_on", "ends_on", "created_by", "created_at",
              "open_link")
    readonly_fields = fields

    open_link = page_link("activities:campaign", _("专项行动页面"))


@admin.register(Notice)
class NoticeAdmin(DistrictScopedReadOnly):
    list_display = ("published_at", "title", "district", "audience", "return_kind", "return_due_on", "open_link")
    list_filter = (("published_at", admin.DateFieldListFilter), "audience", "return_kind")
    search_fields = ("=id", "title")
    list_select_related = ("district",)
    fields = ("district", "campaign", "title", "body", "audience", "category", "return_kind",
              "return_instructions", "return_within", "return_due_on", "clause", "publisher", "published_at",
              "open_link")
    readonly_fields = fields

    open_link = page_link("activities:notice", _("通知页面"))
