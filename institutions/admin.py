from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from simple_history.admin import SimpleHistoryAdmin

from core import shell
from core.admin_guards import HistoryGuardMixin, ReadOnlyAdminMixin
from core.admin_scale import ScaleSafeAdminMixin
from core.errors import DomainError

from . import access, services
from .models import District, DistrictGrant, Employee, Institution, Membership, Role
from .resources import EmployeeResource, InstitutionResource


class RolesChangeOnDeleteAdminMixin:
    """Rows whose delete takes roles away (an institution takes its memberships with it): after a
    delete, the navigation kept in the sessions is worked out again (core.shell)."""

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(shell.roles_changed)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(shell.roles_changed)


class RolesChangeAdminMixin(RolesChangeOnDeleteAdminMixin):
    """Rows that decide what a user may use (memberships, an employee record's account): after a
    save or a delete, the navigation kept in the sessions is worked out again (core.shell)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        transaction.on_commit(shell.roles_changed)


class InstitutionScopedAdmin(HistoryGuardMixin, ScaleSafeAdminMixin, admin.ModelAdmin):
    """Admin half of the one scoping mechanism (see access.py): lists, forms, exports and
    object pages only ever hold the user's institutions; anything else is a 404."""

    institution_path = "institution"
    # The grants that count. The admin works with the role groups' model permissions, which hold in every
    # district the user is granted: so only the finance center's districts (and the user's own
    # institutions) are reached here, never a district where the user is, say, an API client.
    scope_roles: tuple[str, ...] = ("finance_center",)

    def get_queryset(self, request):
        return access.scope_queryset(super().get_queryset(request), request.user, self.institution_path,
                                     roles=self.scope_roles)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and object_id:
            # Django's admin redirects with "perhaps it was deleted"; a 404 says nothing about
            # whether another institution's object exists.
            raise Http404(_("未找到，或您无权查看。"))
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Institution:
            kwargs["queryset"] = access.scope_queryset(Institution.objects.all(), request.user, "",
                                                       roles=self.scope_roles)
        elif db_field.related_model is Employee:
            kwargs["queryset"] = access.scope_queryset(Employee.objects.all(), request.user, roles=self.scope_roles)
        elif db_field.related_model is District:
            kwargs["queryset"] = access.scope_districts(District.objects.all(), request.user, "",
                                                        roles=self.scope_roles)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        # A related filter lists only what the user's own rows refer to: a filer is never offered
        # other institutions' (or districts') names.
        out = []
        for spec in super().get_list_filter(request):
            if isinstance(spec, str) and "__" not in spec:
                field = self.model._meta.get_field(spec)
                if field.is_relation:
                    spec = (spec, admin.RelatedOnlyFieldListFilter)
            elif isinstance(spec, str):
                spec = (spec, admin.RelatedOnlyFieldListFilter) if _ends_in_relation(self.model, spec) else spec
            out.append(spec)
        return out


class FinanceCenterOnly:
    """Visible to the finance center only, whatever model permissions a group may carry."""

    def has_module_permission(self, request):
        return access.is_finance_center(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_finance_center(request.user)


class FinanceCenterScoped(FinanceCenterOnly, InstitutionScopedAdmin):
    """Rows of the institutions of the finance center's own districts only (through
    `institution_path`); anything else is a 404, and filters list only what those rows refer to."""

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return access.scope_queryset(qs, request.user, self.institution_path, roles=(Role.FINANCE_CENTER,))


class FinanceCenterReadOnly(ReadOnlyAdminMixin, FinanceCenterScoped):
    """Rows only the services write (visits, findings, tracked items, activities...), read by the finance
    center of their districts: never added, changed or deleted here (the pages and the API do that,
    through the services' state checks)."""


class FinanceCenterReadOnlyInline(FinanceCenterOnly, ReadOnlyAdminMixin, admin.TabularInline):
    """The rows under a read-only page (a visit's findings, a plan's entries, an item's events): shown
    to the finance center (the page has scoped them already), never edited; `related`: what each
    row's fields read through (select_related)."""

    extra = 0
    can_delete = False
    related: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.related)


def page_link(url_name: str, description):
    """An admin column / field: a link to the row's own portal page (`url_name` takes its pk), where
    it is worked on and its files are downloaded through the portal's checks."""

    @admin.display(description=description)
    def open_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse(url_name, args=[obj.pk]), _("打开"))

    return open_link


class DistrictScopedReadOnly(ReadOnlyAdminMixin, FinanceCenterOnly, HistoryGuardMixin, ScaleSafeAdminMixin,
                             admin.ModelAdmin):
    """Rows of a district (plans, campaigns, notices), read by that district's finance center; another
    district's row is a 404."""

    district_path = "district"

    def get_queryset(self, request):
        return access.scope_districts(super().get_queryset(request), request.user, self.district_path,
                                      roles=(Role.FINANCE_CENTER,))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and object_id:
            raise Http404(_("未找到，或您无权查看。"))
        return obj


def _ends_in_relation(model, path: str) -> bool:
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model if field.is_relation else model
    return bool(field is not None and field.is_relation)


class AllOrNothingImportAdminMixin:
    """An admin import's confirm step is all-or-nothing, as the import service is (before
    ImportExportModelAdmin in the bases): the file is read again at confirmation, and rows that no longer
    pass (the data changed since the preview: a violation type switched off, an institution moved)
    roll the whole file back and the import page says which, instead of the other rows being imported
    under a success message (the library's default)."""

    def get_import_data_kwargs(self, **kwargs):
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_result(self, result, request):
        if not (result.has_errors() or result.has_validation_errors()):
            return super().process_result(result, request)
        problems = [_("第 %(line)s 行：%(error)s") % {
            "line": row.number + 1,  # the file's line: its header is line 1
            "error": "；".join(str(m) for messages_ in row.error_dict.values() for m in messages_)}
            for row in result.invalid_rows[:5]]
        problems += [str(error.error) for error in result.base_errors[:5]]
        problems += [str(error.error) for _line, errors in result.row_errors()[:5] for error in errors[:1]]
        count = len(result.invalid_rows) + len(result.base_errors) + len(result.row_errors())
        messages.error(request, _("确认导入时文件有 %(count)s 处不符合要求（预览之后数据有变化），"
                                  "未导入任何数据：%(problems)s") % {"count": count, "problems": "；".join(problems)})
        return HttpResponseRedirect(reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_import"))


class ScopedImportExportAdmin(InstitutionScopedAdmin, AllOrNothingImportAdminMixin, ImportExportModelAdmin,
                              SimpleHistoryAdmin):
    formats = [XLSX, CSV]

    def get_export_queryset(self, request):
        return self.get_queryset(request)


    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}



@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(Institution)
class InstitutionAdmin(RolesChangeOnDeleteAdminMixin, ScopedImportExportAdmin):
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


class ChosenInstitutionFilter(admin.SimpleListFilter):
    """机构 as a filter that scales: a province has 5,000 institutions, and Django's related filter
    listed every one of them on every page of the employee list (573 KB a page). This one shows only
    the institution chosen with ?institution=<id>; the search box finds employees by the institution's
    name or code, the district filter narrows by district."""

    title = _("机构")
    parameter_name = "institution"

    @staticmethod
    def _pk(value) -> int | None:
        text = str(value or "")
        return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None

    def lookups(self, request, model_admin):
        # Django applies a list filter only while it has a choice to show: an unknown value is shown too
        # (and finds nobody) rather than silently listing every employee.
        value = self.value()
        if not value:
            return []
        pk = self._pk(value)
        # Only an institution the list itself may show (the admin's own roles): no other district's name.
        mine = access.scope_queryset(Institution.objects.all(), request.user, "", roles=model_admin.scope_roles)
        name = mine.filter(pk=pk).values_list("name", flat=True).first() if pk is not None else None
        return [(value, name or _("（无此机构）"))]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        pk = self._pk(self.value())
        return queryset.none() if pk is None else queryset.filter(institution_id=pk)


@admin.register(Employee)
class EmployeeAdmin(RolesChangeAdminMixin, ScopedImportExportAdmin):
    resource_classes = [EmployeeResource]
    list_display = ("employee_no", "name", "institution", "department", "position", "is_party_member",
                    "is_active", "user")
    list_filter = ("is_active", "is_party_member", "institution__category", "institution__district",
                   ChosenInstitutionFilter)
    search_fields = ("name", "employee_no", "institution__name", "institution__code")
    list_select_related = ("institution", "user")
    autocomplete_fields = ("user",)
    raw_id_fields = ()
    actions: list = []  # accounts/admin.py adds the bulk creation of employees' logins

    def get_readonly_fields(self, request, obj=None):
        # Linking an employee record to a login decides what that login may read (portraits, feeds):
        # the finance center of the employee's district (or the administrator) sets it, never a filer.
        fields = list(super().get_readonly_fields(request, obj))
        district = obj.institution.district_id if obj is not None else None
        if not access.is_finance_center(request.user, district):
            fields.append("user")
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not access.is_superuser(request.user):
            from django.contrib.auth import get_user_model

            # Logins that are not staff of another district: no grant outside the officer's districts,
            # no membership of an institution outside them.
            mine = access.district_ids(request.user, "finance_center") or frozenset()
            kwargs["queryset"] = (get_user_model().objects
                                  .exclude(memberships__institution__in=Institution.objects.exclude(
                                      district_id__in=mine))
                                  .exclude(district_grants__in=DistrictGrant.objects.exclude(
                                      district_id__in=mine))
                                  .exclude(is_superuser=True))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Membership)
class MembershipAdmin(RolesChangeAdminMixin, InstitutionScopedAdmin, SimpleHistoryAdmin):
    list_display = ("user", "institution", "role", "created_at")
    list_filter = ("role", "institution__category")
    search_fields = ("user__username", "institution__name", "institution__code")
    list_select_related = ("user", "institution")
    autocomplete_fields = ("user",)


class DistrictGrantForm(forms.ModelForm):
    class Meta:
        model = DistrictGrant
        fields = ("user", "role", "district")

    def clean(self):
        data = super().clean()
        if data.get("role") and data.get("district"):
            try:
                services.check_grant(data["role"], data["district"])
            except DomainError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(DistrictGrant)
class DistrictGrantAdmin(HistoryGuardMixin, SimpleHistoryAdmin):
    """Which user serves which district in which role: managed by the installation administrator."""

    list_display = ("user", "role", "district", "granted_by", "created_at")
    list_filter = ("role", "district")
    search_fields = ("user__username", "district__name", "district__code")
    list_select_related = ("user", "district", "granted_by")
    autocomplete_fields = ("user",)
    form = DistrictGrantForm

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    has_view_permission = has_add_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request, obj=None):
        return False  # a grant is given or revoked, never edited

    def save_model(self, request, obj, form, change):
        grant = services.grant_role(obj.user, obj.role, obj.district, granted_by=request.user)
        obj.pk = grant.pk

    def delete_model(self, request, obj):
        services.revoke_role(obj, revoked_by=request.user)

    def delete_queryset(self, request, queryset):
        for grant in queryset.select_related("user"):
            services.revoke_role(grant, revoked_by=request.user)


# The users' admin with the same history guard (another user's history: 403 whether it exists or not).
class UserAdmin(HistoryGuardMixin, DjangoUserAdmin):
    def save_related(self, request, form, formsets, change):
        # groups, the superuser and active flags: the navigation kept in the sessions is worked out again
        super().save_related(request, form, formsets, change)
        transaction.on_commit(shell.roles_changed)


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), UserAdmin)


class GroupAdmin(RolesChangeAdminMixin, DjangoGroupAdmin):
    """A group's name is a role's name (institutions.access.role_names): a group renamed or deleted
    changes its members' roles, so the navigation kept in the sessions is worked out again."""


admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
