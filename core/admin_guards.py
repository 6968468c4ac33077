"""Admin helpers every app's admin shares (no project imports)."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _


class HistoryGuardMixin:
    """History pages (Django's and django-simple-history's) answer like the object's own page: 403
    without the permission whether or not the object exists, 404 for anything outside the admin's
    (scoped) queryset. Without this, both views look the object up in the model's default manager,
    so another district's history shows, and a missing object answers differently from a forbidden one."""

    def _guard_history(self, request, object_id) -> None:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404(_("未找到，或您无权查看。"))

    def history_view(self, request, object_id, extra_context=None):
        self._guard_history(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._guard_history(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """Rows that only the services write (cases, objections, evidence, notifications...): the admin
    reads them and never adds, edits or deletes one by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
