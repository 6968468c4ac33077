"""Admin pages that stay fast at province scale (issue 16).

`ScaleSafeAdminMixin` (before ModelAdmin in the bases) does two things:

- **Delete pages count, they do not collect.** Django's delete page collects every related object
  and formats each one (540,000 sheet entries behind a scheme: the page never finished). Here the
  related rows are first counted with one COUNT per relation, following cascades. When they are
  few (at most `delete_list_limit`), Django's own page is shown unchanged. Otherwise the page lists
  counts per model, and when protected rows block the delete it refuses with that count, so the
  administrator learns at once why and how much, without loading a row.
- **Changelists count at most ADMIN_COUNT_LIMIT rows** (`BoundedCountPaginator`): the pager's COUNT
  stops there (one `COUNT(*)` over a `LIMIT`ed, unordered subquery), and the page says "more than
  10,000" instead of counting 600,000 survey answers on every page; the first pages page as before,
  and a search or a filter that matches fewer rows gets its exact count.
- **Big foreign keys are never select boxes.** A field pointing at a model in
  ADMIN_BIG_FK_MODELS (institutions, employees, users, ... : thousands to hundreds of thousands of
  rows) gets an autocomplete box when the related admin has search fields and the user may view it,
  else a raw id box; never a `<select>` of every row.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin import widgets
from django.core.paginator import Paginator
from django.db import models
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _

DEFAULT_BIG_MODELS = ("institutions.institution", "institutions.employee", "auth.user",
                      "complaints.complaint", "scoring.assessment", "scoring.scoresheet",
                      "warnings_feed.warning")
MAX_DEPTH = 5


def big_models() -> set[str]:
    return {m.lower() for m in getattr(settings, "ADMIN_BIG_FK_MODELS", DEFAULT_BIG_MODELS)}


def count_related(model, queryset) -> tuple[dict, dict]:
    """(deleted, blocking): model -> number of rows a delete of `queryset` would remove along with it
    (cascades, followed MAX_DEPTH deep) and rows that block it (PROTECT / RESTRICT). COUNT queries
    on subqueries only: nothing is loaded."""
    deleted: dict = {}
    blocking: dict = {}

    def walk(current, pks, depth):
        for rel in current._meta.related_objects:
            if rel.many_to_many or not getattr(rel, "field", None) or not rel.field.concrete:
                continue
            on_delete = getattr(rel, "on_delete", None)
            if on_delete not in (models.CASCADE, models.PROTECT, models.RESTRICT):
                continue  # SET_NULL, SET_DEFAULT, DO_NOTHING: the rows stay
            related = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": pks})
            n = related.count()
            if not n:
                continue
            target = blocking if on_delete in (models.PROTECT, models.RESTRICT) else deleted
            target[rel.related_model] = target.get(rel.related_model, 0) + n
            if on_delete is models.CASCADE and depth < MAX_DEPTH:
                walk(rel.related_model, related.values("pk"), depth + 1)

    walk(model, queryset.values("pk"), 1)
    return deleted, blocking


class BoundedCountPaginator(Paginator):
    """A paginator whose count stops at ADMIN_COUNT_LIMIT (default 10,000) + 1 rows: `capped` tells the
    page (templates/admin/pagination.html) to say "more than N" instead of a number. Pages up to the
    limit work as usual; past it, a search or a filter narrows the list."""

    @cached_property
    def limit(self) -> int:
        return settings.ADMIN_COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, models.QuerySet):
            return super().count
        # Unordered: PostgreSQL stops after limit + 1 rows of any index or scan instead of sorting them all.
        return rows.order_by()[: self.limit + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.limit


def _plural(model) -> str:
    return str(capfirst(model._meta.verbose_name_plural))


class ScaleSafeAdminMixin:
    delete_list_limit = 50
    # The changelist counts its (filtered, scoped) rows once for the pager, not a second time over the
    # whole table for "N total": 600,000 survey answers or 540,000 sheet entries counted twice a page.
    show_full_result_count = False
    paginator = BoundedCountPaginator

    # --- delete pages ---

    def get_deleted_objects(self, objs, request):
        model = self.model
        if isinstance(objs, models.QuerySet):
            queryset = objs
        else:
            queryset = model._base_manager.filter(pk__in=[o.pk for o in objs])
        deleted, blocking = count_related(model, queryset)
        if sum(deleted.values()) + sum(blocking.values()) <= self.delete_list_limit:
            return super().get_deleted_objects(objs, request)
        perms_needed = set()
        for related in deleted:
            related_admin = self.admin_site._registry.get(related)
            if related_admin is not None and not related_admin.has_delete_permission(request):
                perms_needed.add(related._meta.verbose_name)
        protected = [_("%(models)s：%(count)s 条（受保护，须先处理这些记录才能删除）")
                     % {"models": _plural(m), "count": f"{n:,}"} for m, n in blocking.items()]
        own = queryset.count()
        to_delete = [_("%(models)s：%(count)s 条") % {"models": _plural(model), "count": f"{own:,}"}]
        to_delete += [_("%(models)s：%(count)s 条（随之删除）") % {"models": _plural(m), "count": f"{n:,}"}
                      for m, n in deleted.items()]
        model_count = {model._meta.verbose_name_plural: own}
        model_count.update({m._meta.verbose_name_plural: n for m, n in deleted.items()})
        return to_delete, model_count, perms_needed, protected

    # --- big foreign keys ---

    def _big_fk_widget(self, db_field, request, using):
        related = db_field.remote_field.model
        if related._meta.label_lower not in big_models():
            return None
        related_admin = self.admin_site._registry.get(related)
        if (related_admin is not None and related_admin.get_search_fields(request)
                and related_admin.has_view_permission(request)):
            cls = widgets.AutocompleteSelectMultiple if db_field.many_to_many else widgets.AutocompleteSelect
            return cls(db_field, self.admin_site, using=using)
        if db_field.many_to_many:
            return widgets.ManyToManyRawIdWidget(db_field.remote_field, self.admin_site, using=using)
        return widgets.ForeignKeyRawIdWidget(db_field.remote_field, self.admin_site, using=using)

    def _chosen(self, db_field, request) -> bool:
        return (db_field.name in self.get_autocomplete_fields(request) or db_field.name in self.raw_id_fields
                or db_field.name in getattr(self, "radio_fields", {})
                or db_field.name in getattr(self, "filter_vertical", ())
                or db_field.name in getattr(self, "filter_horizontal", ()))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and not self._chosen(db_field, request):
            widget = self._big_fk_widget(db_field, request, kwargs.get("using"))
            if widget is not None:
                kwargs["widget"] = widget
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and not self._chosen(db_field, request):
            widget = self._big_fk_widget(db_field, request, kwargs.get("using"))
            if widget is not None:
                kwargs["widget"] = widget
        return super().formfield_for_manytomany(db_field, request, **kwargs)
