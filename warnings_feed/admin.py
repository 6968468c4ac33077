"""Publishing from the admin (the finance center's tool; heads use /warnings/manage/).

A finance center sees and writes the warnings of its own districts only: lists, forms, choices and
filters hold nothing else, and another district's warning is a 404."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin_scale import ScaleSafeAdminMixin
from core.queue import enqueue_after_commit
from institutions import access
from institutions.models import Institution, Role

from . import rules, selectors, services
from .models import Warning


class NamesField(forms.CharField):
    """The JSON list of names, typed as one line: 黄小明，欧阳娜娜."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "，".join(value)
        return value

    def to_python(self, value):
        return rules.split_names(super().to_python(value) or "")


class WarningAdminForm(forms.ModelForm):
    names = NamesField(label=_("涉及人员姓名"), required=False,
                       help_text=_("多个姓名用逗号分隔；除区金融工作中心外，所有人看到的都是“黄某”。"))

    class Meta:
        model = Warning
        fields = ["title", "body", "case_type", "severity", "scope", "district", "category", "institution", "names",
                  "is_public", "publish_at"]

    def clean(self):
        data = super().clean()
        institution = data.get("institution")
        if institution is not None and data.get("scope") == rules.INSTITUTION:
            data["district"] = institution.district  # an institution's warning belongs to its district
            self.instance.district = institution.district
        return data


@admin.register(Warning)
class WarningAdmin(ScaleSafeAdminMixin, admin.ModelAdmin):
    form = WarningAdminForm
    list_display = ("title", "scope", "target", "severity", "case_type", "publish_at", "is_public", "recipients",
                    "fanned_out_at")
    list_filter = ("scope", "severity", "case_type", "is_public", "district")
    search_fields = ("title", "body", "institution__name", "institution__code")
    list_select_related = ("institution", "district")
    date_hierarchy = "publish_at"
    autocomplete_fields = ("institution",)
    readonly_fields = ("publisher", "issuer", "fanned_out_at", "recipients", "rates")
    actions = ("deliver_again",)

    # Only the finance center publishes district-wide: the admin is theirs alone.
    def has_module_permission(self, request):
        return access.is_finance_center(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return access.is_finance_center(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return access.is_finance_center(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return access.is_finance_center(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return access.is_finance_center(request.user) and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        return access.scope_districts(super().get_queryset(request), request.user, "district",
                                      roles=(Role.FINANCE_CENTER,))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and object_id:
            raise Http404(_("未找到，或您无权查看。"))  # never "perhaps it was deleted": says nothing
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        finance = (Role.FINANCE_CENTER,)
        if db_field.name == "district":
            kwargs["queryset"] = access.visible_districts(request.user, finance)
        elif db_field.name == "institution":
            kwargs["queryset"] = access.scope_districts(Institution.objects.all(), request.user, "district",
                                                        roles=finance)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        # Only the districts the user's own warnings name.
        return [(f, admin.RelatedOnlyFieldListFilter) if f == "district" else f
                for f in super().get_list_filter(request)]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.fanned_out_at is not None:
            # Delivered: changing the audience now would leave deliveries that no longer match it.
            fields += ["scope", "district", "category", "institution", "publish_at"]
        return fields

    @admin.display(description=_("范围对象"))
    def target(self, obj: Warning) -> str:
        if obj.institution_id:
            return obj.institution.name
        return obj.get_category_display() if obj.category else obj.district.name

    @admin.display(description=_("阅读与知悉（按机构）"))
    def rates(self, obj: Warning) -> str:
        if obj.pk is None:
            return "—"
        rows = selectors.rates_by_institution(warning_ids=[obj.pk])
        if not rows:
            return _("尚未送达。")
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}（{}%）</td><td>{}（{}%）</td></tr>", (
            (r.name, r.delivered, r.read, r.read_rate, r.acknowledged, r.acknowledged_rate) for r in rows))
        return format_html("<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
                           _("机构"), _("送达"), _("已读"), _("已阅知悉"), body)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.publisher = request.user
        services.fill_issuer(obj)
        super().save_model(request, obj, form, change)
        if obj.fanned_out_at is None:
            services.schedule_fan_out(obj)

    @admin.action(description=_("重新送达（补发给新入职员工；已送达的不会重复）"), permissions=["change"])
    def deliver_again(self, request, queryset):
        from .tasks import fan_out_warning

        ids = list(queryset.values_list("pk", flat=True))
        for pk in ids:
            enqueue_after_commit(fan_out_warning, pk)
        self.message_user(request, _("已安排重新送达 %(n)d 条警示信息。") % {"n": len(ids)}, messages.SUCCESS)

