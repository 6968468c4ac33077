"""Admin actions offered on other apps' admins (wired in institutions/admin.py's EmployeeAdmin)."""

from __future__ import annotations

import csv
import io

from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import accounts


@admin.action(description=gettext_lazy("为所选员工批量创建登录账号（首次登录须修改密码）"), permissions=["change"])
def create_login_accounts(modeladmin, request, queryset):
    """Accounts for the selected employees (the admin's queryset is already scoped to the user's
    institutions). Returns the usernames and temporary passwords once, as a CSV download."""
    issued, skipped = accounts.create_employee_accounts(queryset, created_by=request.user)
    if skipped:
        modeladmin.message_user(request, _("%(n)d 名员工已有账号或已离职，未重复创建。") % {"n": skipped},
                                messages.WARNING)
    if not issued:
        return None
    modeladmin.message_user(request, _("已创建 %(n)d 个员工账号；初始密码仅在下载的文件中出现一次，请妥善分发。")
                            % {"n": len(issued)}, messages.SUCCESS)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("机构编码"), _("工号"), _("姓名"), _("登录名"), _("初始密码")])
    writer.writerows([a.institution_code, a.employee_no, a.name, a.username, a.password] for a in issued)
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="employee-accounts-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
