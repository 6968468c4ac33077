from django.contrib import admin
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from simple_history.admin import SimpleHistoryAdmin

from . import access
from .models import District, Employee, Institution, Membership
from .resources import EmployeeResource, InstitutionResource


class InstitutionScopedAdmin(admin.ModelAdmin):
    """Admin half of the one scoping mechanism (see access.py): lists, forms, exports and
    object pages only ever hold the user's institutions; anything else is a 404."""

    institution_path = "institution"

    def get_queryset(self, request):
        return access.scope_queryset(super().get_queryset(request), request.user, self.institution_path)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and object_id:
            # Django's admin redirects with "perhaps it was deleted"; a 404 says nothing about
            # whether another institution's object exists.
            raise Http404(_("未找到，或您无权查看。"))
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Institution:
            kwargs["queryset"] = access.scope_queryset(Institution.objects.all(), request.user, "")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedImportExportAdmin(InstitutionScopedAdmin, ImportExportModelAdmin, SimpleHistoryAdmin):
    formats = [XLSX, CSV]

    def get_export_queryset(self, request):
        return self.get_queryset(request)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    def history_view(self, request, object_id, extra_context=None):
        self.get_object(request, object_id)  # 404 outside the user's scope
        return super().history_view(request, object_id, extra_context)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(Institution)
class InstitutionAdmin(ScopedImportExportAdmin):
    resource_classes = [InstitutionResource]
    institution_path = ""
    list_display = ("code", "name", "short_name", "category", "district", "is_local_corporate", "is_active")
    list_filter = ("category", "district", "is_local_corporate", "is_active")
    search_fields = ("code", "name", "short_name", "usc_code")
    list_select_related = ("district",)
    readonly_fields = ("public_code", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("code", "name", "short_name", "category", "usc_code", "district",
                           "is_local_corporate", "is_active")}),
        (_("联系方式"), {"fields": ("address", "contact_person", "contact_phone")}),
        (_("系统"), {"fields": ("public_code", "created_at", "updated_at")}),
    )

    def get_import_resource_kwargs(self, request, **kwargs):
        return ImportExportModelAdmin.get_import_resource_kwargs(self, request, **kwargs)


@admin.register(Employee)
class EmployeeAdmin(ScopedImportExportAdmin):
    resource_classes = [EmployeeResource]
    list_display = ("employee_no", "name", "institution", "department", "position", "is_party_member",
                    "is_active", "user")
    list_filter = ("is_active", "is_party_member", "institution__category", "institution")
    search_fields = ("name", "employee_no", "institution__name", "institution__code")
    list_select_related = ("institution", "user")
    autocomplete_fields = ("user",)
    raw_id_fields = ()
    actions: list = []  # accounts/admin.py adds the bulk creation of employees' logins


@admin.register(Membership)
class MembershipAdmin(InstitutionScopedAdmin, SimpleHistoryAdmin):
    list_display = ("user", "institution", "role", "created_at")
    list_filter = ("role", "institution__category")
    search_fields = ("user__username", "institution__name", "institution__code")
    list_select_related = ("user", "institution")
    autocomplete_fields = ("user",)
