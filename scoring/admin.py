from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_guards import ReadOnlyAdminMixin
from core.admin_scale import ScaleSafeAdminMixin
from core.errors import DomainError
from core.tabular import TabularError, load_dataset
from core.widgets import PlainSelect, plain
from institutions import access
from institutions.admin import InstitutionScopedAdmin
from institutions.models import District

from . import selectors, services
from .models import (
    AggregationRun,
    Assessment,
    AssessmentEvent,
    Assignment,
    DistrictYear,
    Evidence,
    Indicator,
    NormClause,
    NormItem,
    Norms,
    Objection,
    Result,
    Scheme,
    SchemeEvent,
    ScoreSheet,
    SheetEntry,
)


def _is_frozen(scheme) -> bool:
    """`scheme.is_frozen` (a query), read once per scheme object: a change page asks 19 times."""
    if "_admin_is_frozen" not in scheme.__dict__:
        scheme._admin_is_frozen = scheme.is_frozen
    return scheme._admin_is_frozen


class DistrictOwnedAdmin(ScaleSafeAdminMixin, admin.ModelAdmin):
    """Rows that belong to a district or to the installation's template (`district` empty): a district
    user sees their districts' rows and the templates; only the administrator changes a template.
    Another district's row is a 404."""

    district_path = "district"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if access.is_superuser(request.user):
            return qs
        mine = access.district_ids(request.user, "finance_center")  # see InstitutionScopedAdmin.scope_roles
        return qs.filter(Q(**{f"{self.district_path}__in": mine}) | Q(**{f"{self.district_path}__isnull": True}))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and object_id:
            from django.http import Http404

            raise Http404(_("未找到，或您无权查看。"))
        return obj

    def _district_of(self, obj):
        for part in self.district_path.split("__"):
            obj = getattr(obj, part if part != "district" else "district_id", None)
            if obj is None:
                return None
        return obj

    scheme_path: str | None = None  # from the row to the scheme it defines: frozen with that scheme

    def _frozen(self, obj) -> bool:
        if self.scheme_path is None or obj is None:
            return False
        scheme = obj
        for part in filter(None, self.scheme_path.split("__")):
            scheme = getattr(scheme, part, None)
        return bool(scheme is not None and _is_frozen(scheme))

    def _may_change(self, request, obj) -> bool:
        if self._frozen(obj):
            return False  # a scheme in notice or published is frozen, for the administrator too
        if obj is None or access.is_superuser(request.user):
            return True
        district_id = self._district_of(obj)
        return district_id is not None and access.is_finance_center(request.user, district_id)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_change(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is District and not access.is_superuser(request.user):
            kwargs["queryset"] = access.visible_districts(request.user, roles=("finance_center",))
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class NormItemInline(admin.TabularInline):
    model = NormItem
    extra = 0


@admin.register(Norms)
class NormsAdmin(DistrictOwnedAdmin):
    scheme_path = "scheme"
    list_display = ("year", "district", "title", "created_at")
    list_filter = ("year",)
    list_select_related = ("district",)
    inlines = [NormItemInline]


@admin.register(NormClause)
class NormClauseAdmin(DistrictOwnedAdmin):
    scheme_path = "norms__scheme"
    district_path = "norms__district"
    list_display = ("number", "title", "item", "norms")
    list_filter = ("norms__year",)
    search_fields = ("number", "title")
    list_select_related = ("item", "norms")


class IndicatorInline(admin.TabularInline):
    """The scheme's indicators. Each row's clause is a select of the scheme's own norms' clauses (a
    few dozen), read once for the page and shared by every row: a raw-id box looked its label up
    with one query per row (issue 16: 41-58 queries on a scheme's page)."""

    model = Indicator
    extra = 0
    fields = ("position", "code", "kind", "clause", "max_points", "title", "requires_evidence")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("clause")

    def get_formset(self, request, obj=None, **kwargs):
        request._indicator_scheme = obj  # the formset's fields are made for this scheme only
        formset = super().get_formset(request, obj, **kwargs)

        class PlainFormSet(formset):
            """Every row's inputs written in Python (core.widgets.plain), the same markup: 36 rows × 10
            widgets through the template engine were 0.25 s of the page (issue 16)."""

            def add_fields(self, form, index):
                super().add_fields(form, index)
                for field in form.fields.values():
                    widget = getattr(field.widget, "widget", None)  # inside the admin's related-field wrapper
                    plain(widget if widget is not None else field.widget)

        return PlainFormSet

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "clause":
            scheme = getattr(request, "_indicator_scheme", None)
            kwargs["queryset"] = (NormClause.objects.filter(norms_id=scheme.norms_id).order_by("position", "number")
                                  if scheme is not None else NormClause.objects.none())
            kwargs["widget"] = PlainSelect  # one select per row, its options written in Python
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.choices = list(field.choices)  # evaluated once, not once per row
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        kwargs["widget"] = PlainSelect
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and _is_frozen(obj))

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


class SchemeImportForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    district = forms.ModelChoiceField(label=_("区县"), queryset=District.objects.none(), required=False,
                                      help_text=_("留空即全系统模板（仅系统管理员）"))
    norms_file = forms.FileField(label=_("创建规范文件（CSV/XLSX）"))
    indicators_file = forms.FileField(label=_("指标文件（CSV/XLSX）"))
    activate = forms.BooleanField(label=_("导入后启用"), required=False)


class CloneForm(forms.Form):
    year = forms.IntegerField(label=_("新年度"), min_value=2000, max_value=2100)
    district = forms.ModelChoiceField(label=_("区县"), queryset=District.objects.none(), required=False,
                                      help_text=_("复制为该区县自己的方案；留空即全系统模板（仅系统管理员）"))


def _district_choices(form, request) -> None:
    field = form.fields["district"]
    if access.is_superuser(request.user):
        field.queryset = District.objects.filter(level=District.Level.DISTRICT)
    else:
        field.queryset = access.visible_districts(request.user, roles=("finance_center",))
        field.required = True


@admin.register(Scheme)
class SchemeAdmin(DistrictOwnedAdmin):
    scheme_path = ""
    list_display = ("year", "district", "status", "basic_total", "weight_self", "weight_inspection",
                    "weight_third_party", "bonus_cap", "overview_link")
    list_filter = ("year", "status")
    list_select_related = ("district",)
    inlines = [IndicatorInline]
    readonly_fields = ("status", "district")
    actions = ["activate", "clone_next_year"]
    change_list_template = "admin/scoring/scheme/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _basic_total=Count("indicators", filter=Q(indicators__kind="basic")))

    @admin.display(description=_("基础项数"))
    def basic_total(self, obj):
        return obj._basic_total

    @admin.display(description=_("总览"))
    def overview_link(self, obj):
        url = reverse("scoring:year-overview", args=[obj.year])
        if obj.district_id:
            url += f"?district={obj.district.code}"
        return format_html('<a href="{}">{}</a>', url, _("测评总览"))

    def get_readonly_fields(self, request, obj=None):
        if obj and _is_frozen(obj):
            return [f.name for f in self.model._meta.fields]
        return self.readonly_fields

    @admin.action(description=_("启用所选方案（基础项满分须合计 100）"))
    def activate(self, request, queryset):
        for scheme in queryset:
            if not self._may_change(request, scheme):
                self.message_user(request, _("%(scheme)s：只有系统管理员可以启用全系统模板") % {"scheme": scheme},
                                  messages.ERROR)
                continue
            try:
                services.activate_scheme(scheme, request.user)
                self.message_user(request, _("%(year)s 年度方案已启用") % {"year": scheme.year}, messages.SUCCESS)
            except DomainError as exc:
                self.message_user(request, _("%(year)s：%(error)s") % {"year": scheme.year, "error": exc},
                                  messages.ERROR)

    @admin.action(description=_("复制为新方案（下一年度，或本区自己的方案）"))
    def clone_next_year(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个方案进行复制"), messages.ERROR)
            return None
        source = queryset.get()
        initial = {"year": source.year if source.is_template else source.year + 1, "district": source.district}
        form = CloneForm(request.POST if "apply" in request.POST else None, initial=initial)
        _district_choices(form, request)
        if form.is_valid():
            try:
                scheme = services.clone_scheme(source, form.cleaned_data["year"], request.user,
                                               district=form.cleaned_data["district"])
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(request, _("已复制为 %(scheme)s（草稿）") % {"scheme": scheme}, messages.SUCCESS)
            return None
        return render(request, "admin/scoring/scheme/clone.html", {
            "form": form, "source": source, "opts": self.model._meta, "title": _("复制方案"),
            "action": "clone_next_year", "selected": source.pk})

    def get_urls(self):
        return [path("import/", self.admin_site.admin_view(self.import_view), name="scoring_scheme_import"),
                *super().get_urls()]

    def import_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = SchemeImportForm(request.POST or None, request.FILES or None)
        _district_choices(form, request)
        problems = []
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                norms = load_dataset(data["norms_file"].read(), data["norms_file"].name, services.NORMS_COLUMNS)
                indicators = load_dataset(data["indicators_file"].read(), data["indicators_file"].name,
                                          services.INDICATOR_COLUMNS)
                report = services.import_scheme(data["year"], norms, indicators, activate=data["activate"],
                                                actor=request.user, district=data["district"])
                problems = [str(p) for p in report.problems]
            except (TabularError, DomainError) as exc:
                problems = [str(exc)]
            if not problems:
                self.message_user(request, _("%(year)s 年度方案已导入") % {"year": data["year"]}, messages.SUCCESS)
                return redirect("admin:scoring_scheme_changelist")
        return render(request, "admin/scoring/scheme/import.html", {
            "form": form, "problems": problems, "opts": self.model._meta, "title": _("导入方案"),
            **self.admin_site.each_context(request)})


@admin.register(Indicator)
class IndicatorAdmin(DistrictOwnedAdmin):
    scheme_path = "scheme"
    district_path = "scheme__district"
    list_display = ("code", "kind", "title", "max_points", "requires_evidence", "scheme")
    list_filter = ("scheme__year", "kind", "requires_evidence")
    search_fields = ("code", "title")
    list_select_related = ("scheme",)


class ScoreSheetInline(admin.TabularInline):
    model = ScoreSheet
    extra = 0
    fields = ("source", "status", "submitted_at", "submitted_by", "returned_reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Assessment)
class AssessmentAdmin(InstitutionScopedAdmin):
    list_display = ("institution", "year", "state", "progress", "detail_link")
    list_filter = ("year", "state", "institution__category")
    search_fields = ("institution__name", "institution__code")
    list_select_related = ("institution",)
    readonly_fields = ("institution", "year", "scheme", "state")
    inlines = [ScoreSheetInline]

    def get_changelist_instance(self, request):
        """The entries filled per source, counted for the page's assessments only (one grouped
        query): an annotation counted the 540,000 entries of every assessment of a province on each
        changelist (4.9 s, issue 16)."""
        changelist = super().get_changelist_instance(request)
        page = list(changelist.result_list)  # evaluated once; the template iterates these objects
        counts: dict = {}
        for row in (SheetEntry.objects.filter(sheet__assessment_id__in=[a.pk for a in page])
                    .values("sheet__assessment_id", "sheet__source").annotate(n=Count("pk")).order_by()):
            counts[(row["sheet__assessment_id"], row["sheet__source"])] = row["n"]
        for assessment in page:
            assessment._filled = {source: counts.get((assessment.pk, source), 0)
                                  for source in ("self", "inspection", "third_party")}
        return changelist

    @admin.display(description=_("已填（自评/检查组/第三方）"))
    def progress(self, obj):
        filled = getattr(obj, "_filled", None)
        if filled is None:
            return "—"
        return f"{filled['self']} / {filled['inspection']} / {filled['third_party']}"

    @admin.display(description=_("对比与退回"))
    def detail_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("scoring:assessment", args=[obj.pk]), _("打开"))


@admin.register(Assignment)
class AssignmentAdmin(InstitutionScopedAdmin):
    list_display = ("user", "institution", "year", "source")
    list_filter = ("year", "source")
    search_fields = ("user__username", "institution__name", "institution__code")
    list_select_related = ("user", "institution")
    autocomplete_fields = ("user",)


@admin.register(Result)
class ResultAdmin(InstitutionScopedAdmin):
    list_display = ("rank", "institution", "district", "year", "total", "colour_badge", "red_line", "category_rank",
                    "status")
    list_filter = ("year", "district", "colour", "status", "red_line", "category")
    search_fields = ("institution__name", "institution__code")
    list_select_related = ("institution", "district")
    ordering = ("-year", "district__code", "rank")

    def get_queryset(self, request):
        # Results are seen in stages (DOMAIN.md): the same rule as every other surface.
        visible = selectors.visible_results(request.user).values("pk")
        return super().get_queryset(request).filter(pk__in=visible)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # written only by the aggregation

    def has_delete_permission(self, request, obj=None):
        return False  # nor removed by hand: a published year is frozen, an open one is aggregated again

    exclude = ("item_cents",)
    readonly_fields = ("item_points_text",)

    @admin.display(description=_("颜色"), ordering="colour")
    def colour_badge(self, obj):
        return format_html('<span class="badge colour-{}">{}</span>', obj.colour, obj.get_colour_display())

    @admin.display(description=_("分项得分"))
    def item_points_text(self, obj):
        return "；".join(_("第%(number)s项 %(points)s") % {"number": number, "points": points}
                        for number, points in obj.item_points().items()) or "—"


@admin.register(AggregationRun)
class AggregationRunAdmin(DistrictOwnedAdmin):
    list_display = ("pk", "year", "district", "status", "progress", "institutions_total", "results_changed",
                    "created_by", "started_at", "finished_at")
    list_filter = ("year", "status")
    readonly_fields = [f.name for f in AggregationRun._meta.fields]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if access.is_superuser(request.user) else qs.filter(district__isnull=False)

    def has_add_permission(self, request):
        return False


@admin.register(DistrictYear)
class DistrictYearAdmin(DistrictOwnedAdmin):
    """Where each district's year stands; changed only through the year page (notice, publish, reopen)."""

    list_display = ("year", "district", "scheme", "status", "notice_ends_on", "published_at")
    list_filter = ("year", "status")
    list_select_related = ("district", "scheme")
    readonly_fields = ("district", "year", "scheme", "status", "notice_ends_on", "published_at")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if access.is_superuser(request.user) else qs.filter(district__isnull=False)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ServiceOnlyAdmin(ReadOnlyAdminMixin, InstitutionScopedAdmin):
    """Rows made by the services only (filing, objections, evidence): the pages and the API go
    through the services' checks."""


@admin.register(Objection)
class ObjectionAdmin(ServiceOnlyAdmin):
    institution_path = "assessment__institution"
    list_display = ("assessment", "status", "filed_by", "filed_at", "decided_by", "decided_at")
    list_filter = ("status", "assessment__year")
    readonly_fields = ("assessment", "filed_by", "reason", "evidence", "status", "decision", "decided_by",
                       "decided_at", "filed_at")


@admin.register(SchemeEvent)
class SchemeEventAdmin(DistrictOwnedAdmin):
    district_path = "scheme__district"
    list_display = ("scheme", "district", "action", "actor", "reason", "at")
    list_filter = ("action",)
    readonly_fields = ("scheme", "district", "action", "actor", "reason", "at")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if access.is_superuser(request.user):
            return qs
        # A template's events of other districts' years (notice, publish) stay with those districts.
        return qs.filter(Q(district__isnull=True) | Q(district_id__in=access.district_ids(request.user)))

    def has_add_permission(self, request):
        return False


@admin.register(AssessmentEvent)
class AssessmentEventAdmin(InstitutionScopedAdmin):
    institution_path = "assessment__institution"
    list_display = ("assessment", "action", "from_state", "to_state", "actor", "reason", "at")
    list_filter = ("action",)
    readonly_fields = ("assessment", "action", "source", "from_state", "to_state", "actor", "reason", "at")

    def has_add_permission(self, request):
        return False


@admin.register(Evidence)
class EvidenceAdmin(ServiceOnlyAdmin):
    institution_path = "entry__sheet__assessment__institution"
    list_display = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = ("entry", "file", "original_name", "content_type", "size", "sha256", "uploaded_by",
                       "uploaded_at")


admin.site.register(SheetEntry, ServiceOnlyAdmin, institution_path="sheet__assessment__institution",
                    list_display=("sheet", "indicator", "points", "hit", "version", "updated_at"),
                    readonly_fields=("sheet", "indicator", "points", "hit", "note", "version", "updated_by"))

