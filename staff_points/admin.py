from django import forms
from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ConfirmImportForm, ImportForm

from core.admin_scale import ScaleSafeAdminMixin
from institutions import access
from institutions.admin import AllOrNothingImportAdminMixin, InstitutionScopedAdmin
from institutions.models import Institution

from . import services
from .models import BlacklistEntry, Exemplar, PointRecord, PortraitView, ViolationType
from .resources import PointRecordResource


class YearImportForm(ImportForm):
    year = forms.IntegerField(label=_("年度（记录日期须在该年度内）"), min_value=2000, max_value=2100)


class YearConfirmImportForm(ConfirmImportForm):
    year = forms.IntegerField(widget=forms.HiddenInput)


@admin.register(ViolationType)
class ViolationTypeAdmin(ScaleSafeAdminMixin, admin.ModelAdmin):
    """ScaleSafeAdminMixin: the delete page counts the records a type blocks (80,000 in a province:
    Django's page formatted each, 300 s, issue 16) and the institution is an autocomplete box."""

    list_display = ("code", "name", "module", "points", "is_red_line", "institution", "is_active")
    list_filter = ("module", "is_red_line", "is_active", ("institution", admin.EmptyFieldListFilter))
    search_fields = ("code", "name")
    list_select_related = ("institution",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        visible = access.scope_filter(request.user, "institution")
        return qs if visible is None else qs.filter(Q(institution__isnull=True) | visible)

    def has_change_permission(self, request, obj=None):
        # Institutions edit their own additions only; the district catalogue is the finance center's.
        if obj is not None and obj.institution_id is None and not access.is_finance_center(request.user):
            return False
        return super().has_change_permission(request, obj)

    has_delete_permission = has_change_permission

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "institution":
            kwargs["queryset"] = access.scope_queryset(Institution.objects.all(), request.user, "")
            if not access.is_finance_center(request.user):
                kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(PointRecord)
class PointRecordAdmin(InstitutionScopedAdmin, AllOrNothingImportAdminMixin, ImportExportModelAdmin):
    institution_path = "employee__institution"
    resource_classes = [PointRecordResource]
    import_form_class = YearImportForm
    confirm_form_class = YearConfirmImportForm
    list_display = ("employee", "date", "kind", "module", "points", "is_red_line", "source", "recorder")
    # Dates by a list filter, not a date hierarchy (whose top level reads every year of the records).
    list_filter = (("date", admin.DateFieldListFilter), "kind", "module", "is_red_line", "source",
                   "employee__institution__category")
    search_fields = ("employee__name", "employee__employee_no", "employee__institution__name")
    list_select_related = ("employee__institution", "recorder")
    readonly_fields = ("recorder", "created_at")
    raw_id_fields = ("employee", "violation_type")

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["year"] = import_form.cleaned_data["year"]
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        year = form.cleaned_data.get("year") if form is not None and hasattr(form, "cleaned_data") else None
        return {"year": year, "user": request.user}

    def get_export_queryset(self, request):
        return self.get_queryset(request)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # What recording does after storing a record (in the admin's transaction): a red line proposes the
        # blacklist, a deduction withdraws the year's exemplar confirmation (each at most once).
        services.after_recording([obj])


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(InstitutionScopedAdmin):
    institution_path = "employee__institution"
    list_display = ("employee", "status", "starts_on", "ends_on", "decided_by", "created_at")
    list_filter = ("status",)
    search_fields = ("employee__name", "employee__institution__name")
    list_select_related = ("employee", "decided_by")
    readonly_fields = ("employee", "record", "status", "reason", "starts_on", "ends_on", "decided_by",
                       "decided_at", "created_at")

    def has_add_permission(self, request):
        return False  # proposed by red-line records; decided on the blacklist page


@admin.register(PortraitView)
class PortraitViewAdmin(InstitutionScopedAdmin):
    institution_path = "employee__institution"
    list_display = ("viewer", "employee", "at")
    readonly_fields = ("viewer", "employee", "at")

    def has_add_permission(self, request):
        return False


admin.site.register(Exemplar, InstitutionScopedAdmin, institution_path="employee__institution",
                    list_display=("employee", "year", "confirmed_by", "confirmed_at", "withdrawn_at"),
                    readonly_fields=("withdrawn_at", "withdrawn_because"))  # set by a deduction's recording only
