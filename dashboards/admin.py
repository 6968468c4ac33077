"""The annual reports in the admin: request one (district and year), follow its progress, download both files."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.queue import enqueue_after_commit

from . import permissions, services
from .models import AnnualReport


@admin.register(AnnualReport)
class AnnualReportAdmin(admin.ModelAdmin):
    list_display = ("__str__", "district", "year", "status", "progress_shown", "created_by", "created_at", "downloads")
    list_filter = ("status", "year", "district")
    readonly_fields = ("status", "progress_shown", "step_shown", "error", "created_by", "created_at", "started_at",
                       "finished_at", "downloads")
    fields = ("district", "year", *readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return ("district", "year", *self.readonly_fields) if obj else self.readonly_fields

    def _allowed(self, request) -> bool:
        return permissions.can_see_district(request.user)

    def get_queryset(self, request):
        # The reports of the user's own districts only: any other is absent (404), as everywhere.
        ids = permissions.finance_district_ids(request.user)
        qs = super().get_queryset(request).select_related("district", "created_by")
        return qs if ids is None else qs.filter(district_id__in=ids)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and object_id:
            # Not Django's "perhaps it was deleted" redirect: 403 without the role, else 404, which says
            # nothing about whether another district's report exists.
            if not self._allowed(request):
                raise PermissionDenied
            raise Http404(_("未找到，或您无权查看。"))
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "district":
            kwargs["queryset"] = permissions.finance_districts(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return self._allowed(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._allowed(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return False  # a report is never edited: request a new one

    @admin.display(description=_("进度"))
    def progress_shown(self, obj: AnnualReport) -> str:
        return f"{100 if obj.status == AnnualReport.Status.SUCCEEDED else obj.progress}%"

    @admin.display(description=_("当前步骤"))
    def step_shown(self, obj: AnnualReport) -> str:
        return services.step_label(obj.step)

    @admin.display(description=_("下载"))
    def downloads(self, obj: AnnualReport) -> str:
        links = []
        for kind, label in (("pdf", "PDF"), ("xlsx", "Excel")):
            if getattr(obj, kind):
                url = reverse("dashboards:report-file", kwargs={"pk": obj.pk, "kind": kind})
                links.append(format_html('<a href="{}">{}</a>', url, label))
        if not links:
            return "—"
        return format_html(" · ".join(["{}"] * len(links)), *links)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            # The PDF and the xlsx pack in the requester's language.
            obj.language = services.report_language(translation.get_language())
        super().save_model(request, obj, form, change)
        if not change:
            from .tasks import generate_annual_report

            enqueue_after_commit(generate_annual_report, obj.pk)
