"""Admin for the finance center: the holiday table, QR codes and posters, questionnaires, and
read-only views of cases and their audit trails. State changes go through the triage pages
(complaints/<id>/), where the state machine guards them.

Everything that belongs to an institution is limited to the finance center's own districts (and
anything else is a 404); the holiday table and the questionnaires are the installation's reference
data: every finance center reads them, only the installation administrator changes them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import CharField, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core import outbox
from core.admin_guards import ReadOnlyAdminMixin
from core.admin_scale import ScaleSafeAdminMixin
from institutions import access
from institutions.admin import FinanceCenterOnly, FinanceCenterScoped, InstitutionScopedAdmin

from . import posters, qr, selectors, services
from .models import (
    Complaint,
    ComplaintEvent,
    ComplaintNote,
    HolidayDate,
    HolidayYear,
    InstitutionPoster,
    Notification,
    PiiReveal,
    Question,
    Questionnaire,
    RetiredPublicCode,
    SurveyBatch,
    SurveyResponse,
)


class InstallationReferenceData(FinanceCenterOnly):
    """Shared by every district: read by the finance centers, changed by the administrator only."""

    def has_add_permission(self, request, obj=None):
        return access.is_superuser(request.user)

    def has_change_permission(self, request, obj=None):
        return access.is_superuser(request.user)

    def has_delete_permission(self, request, obj=None):
        return access.is_superuser(request.user)


class ReadOnly(ReadOnlyAdminMixin, FinanceCenterOnly):
    pass


# --- holidays -------------------------------------------------------------------------------


class HolidayDateInline(InstallationReferenceData, admin.TabularInline):
    model = HolidayDate
    extra = 3
    fields = ("day", "kind", "name")
    ordering = ("day",)


@admin.register(HolidayYear)
class HolidayYearAdmin(InstallationReferenceData, admin.ModelAdmin):
    list_display = ("year", "source", "holiday_count", "workday_count", "updated_at")
    inlines = [HolidayDateInline]
    actions = ["reload_from_package"]
    search_fields = ("year",)

    def get_queryset(self, request):
        from django.db.models import Count, Q

        return super().get_queryset(request).annotate(
            n_holidays=Count("dates", filter=Q(dates__kind="holiday")),
            n_workdays=Count("dates", filter=Q(dates__kind="workday")))

    @admin.display(description=_("休息日数"))
    def holiday_count(self, obj):
        return obj.n_holidays

    @admin.display(description=_("调休上班日数"))
    def workday_count(self, obj):
        return obj.n_workdays

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.holidays_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.holidays_changed()

    @admin.action(description=_("用 chinese-calendar 软件包数据覆盖所选年份"), permissions=["change"])
    def reload_from_package(self, request, queryset):
        years = services.seed_holidays(list(queryset.values_list("year", flat=True)), overwrite=True)
        if years:
            self.message_user(request, _("已更新：%s") % "、".join(map(str, years)))
        else:
            self.message_user(request, _("软件包没有所选年份的数据，请手工录入国务院办公厅公布的安排。"),
                              messages.WARNING)


# --- cases (read-only here) -----------------------------------------------------------------


class EventInline(admin.TabularInline):
    model = ComplaintEvent
    extra = 0
    can_delete = False
    fields = ("at", "actor", "action", "from_status", "to_status", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class NoteInline(admin.TabularInline):
    model = ComplaintNote
    extra = 0
    can_delete = False
    fields = ("created_at", "author", "author_side", "is_public", "body")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(ReadOnly, InstitutionScopedAdmin):
    list_display = ("id", "received_at", "institution", "kind", "status", "next_due_on", "overdue_flag", "outcome",
                    "anonymous", "open_link")
    # Dates by a list filter (today, 7 days, this month, this year), not a date hierarchy: the hierarchy's
    # top level reads the first and last receipt and every year of the user's cases (175 ms of a 355 ms
    # page over a province's 200,000 cases).
    list_filter = (("received_at", admin.DateFieldListFilter), "status", "kind", "outcome", "channel",
                   "involves_party_member", "anonymous", "institution__category")
    search_fields = ("=id", "description", "staff_name", "institution__name", "institution__code")
    list_select_related = ("institution",)
    inlines = [EventInline, NoteInline]
    fields = ("institution", "kind", "status", "outcome", "channel", "received_at", "description", "staff_name",
              "occurred_on", "rating_attitude", "rating_efficiency", "rating_integrity", "anonymous",
              "involves_party_member", "assignee", "deadline_from", "extensions", "next_due_on", "next_due_key",
              "deadlines_provisional", "accepted_at", "rejected_at", "reject_reason", "forwarded_at", "referred_at",
              "concluded_at", "closed_at", "merged_into", "pii_erased_at")
    readonly_fields = fields

    def get_queryset(self, request):
        # The cases the user may see: the finance center's districts only (a 404 for any other).
        return selectors.visible_cases(request.user).select_related("institution")

    @admin.display(description=_("超期"), boolean=True)
    def overdue_flag(self, obj):
        from django.utils import timezone

        return obj.next_due_on is not None and obj.next_due_on < timezone.localdate()

    @admin.display(description=_("办理"))
    def open_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("complaints:case-detail", args=[obj.pk]), _("打开"))


@admin.register(PiiReveal)
class PiiRevealAdmin(ReadOnly, FinanceCenterScoped):
    institution_path = "complaint__institution"
    list_display = ("at", "user", "complaint", "reason")
    list_filter = ("user",)
    search_fields = ("reason", "user__username", "=complaint__id")
    list_select_related = ("user", "complaint")


@admin.register(Notification)
class NotificationAdmin(ReadOnly, FinanceCenterScoped):
    """What each case's people were told; the sending itself is core's mail outbox, whose state
    (pending, sent, failed) is shown here."""

    institution_path = "complaint__institution"
    list_display = ("created_at", "kind", "subject", "notified_at", "mail_status", "mail_sent_at")
    list_filter = ("kind", ("notified_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "=complaint__id")
    exclude = ("dedupe_key",)
    readonly_fields = ("mail_status", "mail_sent_at", "mail_error")

    def get_queryset(self, request):
        key = Concat(Value("complaints:notification:"), Cast(OuterRef("pk"), output_field=CharField()))
        return super().get_queryset(request).annotate(
            mail_state=outbox.mail_column(key, "status"), mail_sent=outbox.mail_column(key, "sent_at"),
            mail_last_error=outbox.mail_column(key, "last_error"))

    @admin.display(description=_("邮件状态"))
    def mail_status(self, obj):
        return outbox.status_label(obj.mail_state)

    @admin.display(description=_("邮件发送时间"))
    def mail_sent_at(self, obj):
        return obj.mail_sent

    @admin.display(description=_("邮件最近错误"))
    def mail_error(self, obj):
        return obj.mail_last_error or ""


@admin.register(RetiredPublicCode)
class RetiredPublicCodeAdmin(ReadOnly, FinanceCenterScoped):
    list_display = ("institution", "retired_at", "retired_by")
    list_select_related = ("institution", "retired_by")
    search_fields = ("institution__name", "institution__code")
    exclude = ("code",)


# --- QR codes and posters -------------------------------------------------------------------


@admin.register(InstitutionPoster)
class InstitutionPosterAdmin(FinanceCenterScoped):
    institution_path = ""
    list_display = ("code", "name", "category", "district", "is_active", "links")
    list_filter = ("category", "district", "is_active")
    search_fields = ("code", "name", "short_name")
    list_select_related = ("district",)
    actions = ["download_posters", "regenerate_codes"]
    fields = ("code", "name", "links")
    readonly_fields = fields
    change_list_template = "complaints/admin/poster_changelist.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return access.is_finance_center(request.user)

    @admin.display(description=_("二维码与海报"))
    def links(self, obj):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a> · <a href="{}">SVG</a> · <a href="{}">PNG</a> · '
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("complaints:poster", args=[obj.code]), _("海报"),
            reverse("complaints:qr", args=[obj.public_code, "svg"]),
            reverse("complaints:qr", args=[obj.public_code, "png"]),
            qr.public_url(obj.public_code), _("表单"))

    @admin.action(description=_("下载所选机构的海报（一个可打印文件）"))
    def download_posters(self, request, queryset):
        from django.http import FileResponse

        institutions = list(queryset.select_related("district").order_by("code"))
        stored = posters.download(institutions, qr.public_base(request))
        if stored is None:
            self.message_user(request, format_html(
                _("所选 {count} 家机构的海报尚未生成，一次生成较慢：请到<a href=\"{url}\">全部海报</a>在后台生成，"
                  "或少选一些机构。"), count=len(institutions), url=reverse("complaints:posters-all")),
                level=messages.WARNING)
            return None
        return FileResponse(stored, as_attachment=True, filename="posters.html",
                            content_type="text/html; charset=utf-8")

    @admin.action(description=_("重新生成所选机构的二维码（旧码作废）"))
    def regenerate_codes(self, request, queryset):
        if request.POST.get("confirm") == "yes":
            for institution in queryset:
                services.regenerate_public_code(institution, request.user)
            self.message_user(request,
                              _("已为 %d 家机构重新生成二维码；旧二维码将显示“已更换”页面。") % queryset.count())
            return None
        return TemplateResponse(request, "complaints/admin/confirm_regenerate.html", {
            **self.admin_site.each_context(request), "title": _("确认重新生成二维码"),
            "institutions": queryset, "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })


# --- questionnaires -------------------------------------------------------------------------


class QuestionInline(InstallationReferenceData, admin.TabularInline):
    model = Question
    extra = 1
    fields = ("position", "kind", "text", "required", "alarm_answer")


@admin.register(Questionnaire)
class QuestionnaireAdmin(InstallationReferenceData, ScaleSafeAdminMixin, admin.ModelAdmin):
    """One questionnaire a year for every district: changed by the administrator only."""

    list_display = ("year", "title", "is_active")
    inlines = [QuestionInline]


@admin.register(SurveyBatch)
class SurveyBatchAdmin(ReadOnly, FinanceCenterScoped):
    list_display = ("created_at", "institution", "questionnaire", "count", "label", "created_by")
    list_select_related = ("institution", "questionnaire", "created_by")
    list_filter = ("questionnaire",)


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnly, FinanceCenterScoped):
    list_display = ("submitted_at", "institution", "questionnaire", "mean_rating", "satisfied", "complaint")
    list_select_related = ("institution", "questionnaire")
    # By the questionnaire's year, not a date hierarchy: that took the distinct years and the first and
    # last answer of a province's 600,000 answers on every page (0.13 s of 0.23 s)
    list_filter = ("satisfied", "questionnaire__year", "questionnaire", "institution__category")
