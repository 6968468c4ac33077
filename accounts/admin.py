"""The accounts' admin: bulk account creation on the employees' admin, and the accounts still waiting
for their first password change (the finance center's list)."""

from __future__ import annotations

import io

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exports import csv_writer
from institutions import access
from institutions.admin import EmployeeAdmin, InstitutionScopedAdmin, UserAdmin

from . import services
from .models import PasswordChangeRequired


@admin.action(description=gettext_lazy("为所选员工批量创建登录账号（首次登录须修改密码）"), permissions=["change"])
def create_login_accounts(modeladmin, request, queryset):
    """Accounts for the selected employees (the admin's queryset is already scoped to the user's
    institutions). Returns the usernames and temporary passwords once, as a CSV download."""
    issued, skipped = services.create_employee_accounts(queryset, created_by=request.user)
    if skipped:
        modeladmin.message_user(request, _("%(n)d 名员工已有账号或已离职，未重复创建。") % {"n": skipped},
                                messages.WARNING)
    if not issued:
        return None
    modeladmin.message_user(request, _("已创建 %(n)d 个员工账号；初始密码仅在下载的文件中出现一次，请妥善分发。")
                            % {"n": len(issued)}, messages.SUCCESS)
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([_("机构编码"), _("工号"), _("姓名"), _("登录名"), _("初始密码")])
    writer.writerows([a.institution_code, a.employee_no, a.name, a.username, a.password] for a in issued)
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="employee-accounts-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@admin.action(description=gettext_lazy("解除所选员工账号的登录锁定"), permissions=["change"])
def unlock_login_accounts(modeladmin, request, queryset):
    """Lift the lockouts (too many wrong passwords) of the selected employees' accounts (the queryset
    is scoped to the user's institutions); the superuser also has axes' own admin."""
    removed = services.unlock_logins(queryset)
    if removed:
        modeladmin.message_user(request, _("已解除 %(n)d 条登录锁定记录。") % {"n": removed}, messages.SUCCESS)
    else:
        modeladmin.message_user(request, _("所选员工的账号没有被锁定。"), messages.INFO)


# Offered on the employees' admin (institutions knows nothing of accounts; accounts extends it).
EmployeeAdmin.actions = [*EmployeeAdmin.actions, create_login_accounts, unlock_login_accounts]


class AccountsUserAdmin(UserAdmin):
    """The users' admin, whose password change also revokes the user's API tokens."""

    def user_change_password(self, request, id, form_url=""):
        User = get_user_model()
        before = User.objects.filter(pk=id).values_list("password", flat=True).first() if id.isdigit() else None
        response = super().user_change_password(request, id, form_url)
        user = User.objects.filter(pk=id).first() if before is not None else None
        if user is not None and user.password != before:
            services.revoke_api_tokens(user)
        return response


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), AccountsUserAdmin)


@admin.register(PasswordChangeRequired)
class PasswordChangeRequiredAdmin(InstitutionScopedAdmin):
    """Accounts created in bulk whose temporary password has not been changed yet: those of the
    officer's own districts (another's is a 404)."""

    institution_path = "user__employee__institution"
    scope_roles = ("finance_center",)
    list_display = ("user", "created_by", "created_at")
    search_fields = ("user__username", "user__first_name")
    list_select_related = ("user", "created_by")
    readonly_fields = ("user", "created_by", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return access.is_finance_center(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return access.is_finance_center(request.user) and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return access.is_finance_center(request.user) and super().has_delete_permission(request, obj)
