from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ConfirmImportForm, ImportForm

from core.errors import DomainError
from core.tabular import TabularError, load_dataset
from institutions import access
from institutions.admin import InstitutionScopedAdmin
from institutions.models import Institution

from . import services
from .models import (
    AggregationRun,
    Assessment,
    AssessmentEvent,
    Assignment,
    BlacklistEntry,
    Evidence,
    Exemplar,
    Indicator,
    NormClause,
    NormItem,
    Norms,
    Objection,
    PointRecord,
    PortraitView,
    Result,
    Scheme,
    SchemeEvent,
    ScoreSheet,
    SheetEntry,
    ViolationType,
)
from .resources import PointRecordResource


class NormItemInline(admin.TabularInline):
    model = NormItem
    extra = 0


@admin.register(Norms)
class NormsAdmin(admin.ModelAdmin):
    list_display = ("year", "title", "created_at")
    inlines = [NormItemInline]


@admin.register(NormClause)
class NormClauseAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "item", "norms")
    list_filter = ("norms",)
    search_fields = ("number", "title")
    list_select_related = ("item", "norms")


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ("position", "code", "kind", "clause", "max_points", "title", "requires_evidence")
    raw_id_fields = ("clause",)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.is_frozen)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


class SchemeImportForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    norms_file = forms.FileField(label=_("创建规范文件（CSV/XLSX）"))
    indicators_file = forms.FileField(label=_("指标文件（CSV/XLSX）"))
    activate = forms.BooleanField(label=_("导入后启用"), required=False)


class CloneForm(forms.Form):
    year = forms.IntegerField(label=_("新年度"), min_value=2000, max_value=2100)


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ("year", "status", "basic_total", "weight_self", "weight_inspection", "weight_third_party",
                    "bonus_cap", "overview_link")
    list_filter = ("status",)
    inlines = [IndicatorInline]
    readonly_fields = ("status", "published_at", "notice_ends_on")
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
        return format_html('<a href="{}">{}</a>', reverse("scoring:year-overview", args=[obj.year]), _("测评总览"))

    def get_readonly_fields(self, request, obj=None):
        if obj and obj.is_frozen:
            return [f.name for f in self.model._meta.fields]
        return self.readonly_fields

    @admin.action(description=_("启用所选方案（基础项满分须合计 100）"))
    def activate(self, request, queryset):
        for scheme in queryset:
            try:
                services.activate_scheme(scheme, request.user)
                self.message_user(request, f"{scheme.year} 年度方案已启用", messages.SUCCESS)
            except DomainError as exc:
                self.message_user(request, f"{scheme.year}：{exc}", messages.ERROR)

    @admin.action(description=_("复制为新年度方案"))
    def clone_next_year(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "请只选择一个方案进行复制", messages.ERROR)
            return None
        source = queryset.get()
        form = CloneForm(request.POST if "apply" in request.POST else None, initial={"year": source.year + 1})
        if form.is_valid():
            try:
                scheme = services.clone_scheme(source, form.cleaned_data["year"], request.user)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(request, f"已复制为 {scheme.year} 年度方案（草稿）", messages.SUCCESS)
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
        problems = []
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                norms = load_dataset(data["norms_file"].read(), data["norms_file"].name, services.NORMS_COLUMNS)
                indicators = load_dataset(data["indicators_file"].read(), data["indicators_file"].name,
                                          services.INDICATOR_COLUMNS)
                report = services.import_scheme(data["year"], norms, indicators, activate=data["activate"],
                                                actor=request.user)
                problems = [str(p) for p in report.problems]
            except (TabularError, DomainError) as exc:
                problems = [str(exc)]
            if not problems:
                self.message_user(request, f"{data['year']} 年度方案已导入", messages.SUCCESS)
                return redirect("admin:scoring_scheme_changelist")
        return render(request, "admin/scoring/scheme/import.html", {
            "form": form, "problems": problems, "opts": self.model._meta, "title": _("导入方案"),
            **self.admin_site.each_context(request)})


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ("code", "kind", "title", "max_points", "requires_evidence", "scheme")
    list_filter = ("scheme", "kind", "requires_evidence")
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

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _self=Count("sheets__entries", filter=Q(sheets__source="self")),
            _inspection=Count("sheets__entries", filter=Q(sheets__source="inspection")),
            _third=Count("sheets__entries", filter=Q(sheets__source="third_party")))

    @admin.display(description=_("已填（自评/检查组/第三方）"))
    def progress(self, obj):
        return f"{obj._self} / {obj._inspection} / {obj._third}"

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
    list_display = ("rank", "institution", "year", "total", "colour_badge", "red_line", "category_rank", "status")
    list_filter = ("year", "colour", "status", "red_line", "category")
    search_fields = ("institution__name", "institution__code")
    list_select_related = ("institution",)
    ordering = ("-year", "rank")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # written only by the aggregation

    @admin.display(description=_("颜色"), ordering="colour")
    def colour_badge(self, obj):
        return format_html('<span class="badge colour-{}">{}</span>', obj.colour, obj.get_colour_display())


@admin.register(AggregationRun)
class AggregationRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "year", "status", "progress", "institutions_total", "results_changed", "created_by",
                    "started_at", "finished_at")
    list_filter = ("year", "status")
    readonly_fields = [f.name for f in AggregationRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Objection)
class ObjectionAdmin(InstitutionScopedAdmin):
    institution_path = "assessment__institution"
    list_display = ("assessment", "status", "filed_by", "filed_at", "decided_by", "decided_at")
    list_filter = ("status", "assessment__year")
    readonly_fields = ("assessment", "filed_by", "reason", "evidence", "status", "decision", "decided_by",
                       "decided_at", "filed_at")


@admin.register(SchemeEvent)
class SchemeEventAdmin(admin.ModelAdmin):
    list_display = ("scheme", "action", "actor", "reason", "at")
    list_filter = ("action", "scheme")
    readonly_fields = ("scheme", "action", "actor", "reason", "at")

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
class EvidenceAdmin(InstitutionScopedAdmin):
    institution_path = "entry__sheet__assessment__institution"
    list_display = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = ("entry", "file", "original_name", "content_type", "size", "sha256", "uploaded_by",
                       "uploaded_at")


admin.site.register(SheetEntry, InstitutionScopedAdmin, institution_path="sheet__assessment__institution",
                    list_display=("sheet", "indicator", "points", "hit", "version", "updated_at"),
                    readonly_fields=("sheet", "indicator", "points", "hit", "note", "version", "updated_by"))


# ------------------------------------------------------------------------------------------------
# Employees' clean points


class YearImportForm(ImportForm):
    year = forms.IntegerField(label=_("年度（记录日期须在该年度内）"), min_value=2000, max_value=2100)


class YearConfirmImportForm(ConfirmImportForm):
    year = forms.IntegerField(widget=forms.HiddenInput)


@admin.register(ViolationType)
class ViolationTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "module", "points", "is_red_line", "institution", "is_active")
    list_filter = ("module", "is_red_line", "is_active", ("institution", admin.EmptyFieldListFilter))
    search_fields = ("code", "name")
    list_select_related = ("institution",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        ids = access.institution_ids(request.user)
        return qs if ids is None else qs.filter(Q(institution__isnull=True) | Q(institution_id__in=ids))

    def has_change_permission(self, request, obj=None):
        # Institutions edit their own additions only; the district catalogue is the finance center's.
        if obj is not None and obj.institution_id is None and not access.is_finance_center(request.user):
            return False
        return super().has_change_permission(request, obj)

    has_delete_permission = has_change_permission

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "institution" and not access.is_finance_center(request.user):
            kwargs["queryset"] = access.scope_queryset(Institution.objects.all(), request.user, "")
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(PointRecord)
class PointRecordAdmin(InstitutionScopedAdmin, ImportExportModelAdmin):
    institution_path = "employee__institution"
    resource_classes = [PointRecordResource]
    import_form_class = YearImportForm
    confirm_form_class = YearConfirmImportForm
    list_display = ("employee", "date", "kind", "module", "points", "is_red_line", "source", "recorder")
    list_filter = ("kind", "module", "is_red_line", "source", "employee__institution__category")
    search_fields = ("employee__name", "employee__employee_no", "employee__institution__name")
    list_select_related = ("employee__institution", "recorder")
    date_hierarchy = "date"
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
                    list_display=("employee", "year", "confirmed_by", "confirmed_at"))
