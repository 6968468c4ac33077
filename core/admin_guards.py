"""Admin helpers every app's admin shares (no project imports)."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _


def audit_repr(obj) -> str:
    """How an object is named in the audit log (the admin's LogEntry.object_repr): its own
    `audit_repr()` when it defines one (models whose name shows a person: the name masked, 黄小明 →
    黄某, with a number that identifies the row to an officer), else str(obj)."""
    method = getattr(obj, "audit_repr", None)
    return str(method() if callable(method) else obj)[:200]


class AuditReprMixin:
    """The admin's change log names objects by `audit_repr` instead of str(): the log is kept for
    months (core.audit) and must not hold people's names in plain text (issue #11, item 6)."""

    def _rename(self, entries, objs) -> None:
        from django.contrib.admin.models import LogEntry

        by_pk = {str(o.pk): o for o in objs}
        for entry in entries if isinstance(entries, (list, tuple)) else [entries]:
            obj = by_pk.get(str(getattr(entry, "object_id", "")))
            if obj is None or getattr(entry, "pk", None) is None:
                continue
            shown = audit_repr(obj)
            if shown != entry.object_repr:
                LogEntry.objects.filter(pk=entry.pk).update(object_repr=shown)
                entry.object_repr = shown

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._rename(entry, [obj])
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._rename(entry, [obj])
        return entry

    def log_deletions(self, request, queryset):
        objs = list(queryset)
        entries = super().log_deletions(request, objs)
        self._rename(entries, objs)
        return entries


class HistoryGuardMixin(AuditReprMixin):
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
