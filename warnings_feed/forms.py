"""Forms of the warnings pages (shape and parse only: who may publish where is services.py's job)."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from institutions.models import District, Institution, InstitutionCategory

from . import rules, services
from .models import CaseType, Scope, Severity


class PublishForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 6}))
    case_type = forms.ChoiceField(label=_("案件类型"), choices=CaseType.choices)
    severity = forms.ChoiceField(label=_("严重程度"), choices=Severity.choices, initial=Severity.MEDIUM)
    scope = forms.ChoiceField(label=_("发布范围"), choices=Scope.choices)
    district = forms.ModelChoiceField(label=_("区县"), required=False, queryset=District.objects.none(),
                                      to_field_name="code", empty_label=None)
    category = forms.ChoiceField(label=_("机构类别"), required=False,
                                 choices=[("", "—"), *InstitutionCategory.choices])
    institution = forms.ModelChoiceField(label=_("机构"), required=False, queryset=Institution.objects.none(),
                                         to_field_name="code")
    names = forms.CharField(label=_("涉及人员姓名"), required=False, max_length=500,
                            help_text=_("多个姓名用逗号分隔；除区金融工作中心外，所有人看到的都是“黄某”。"))
    publish_at = forms.DateTimeField(label=_("定时发布"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                format="%Y-%m-%dT%H:%M"),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                     help_text=_("留空即立即发布。"))
    is_public = forms.BooleanField(label=_("对外公开"), required=False)

    def __init__(self, *args, finance_center: bool, head_institutions=None, districts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if finance_center:
            # The finance center publishes in its own districts only (`districts`, ordered by code).
            districts = districts if districts is not None else District.objects.none()
            self.fields["district"].queryset = districts
            self.fields["district"].help_text = _("发布范围为全区或某类机构时适用。")
            # A province has thousands of institutions: a code box (the API's search fills suggestions
            # as one types, warnings_feed/institution_lookup.js), never a select of every one (issue 16).
            # Without scripts the code is typed; it must name an active institution of these districts.
            field = self.fields["institution"]
            field.queryset = Institution.objects.filter(is_active=True, district__in=districts)
            field.widget = forms.TextInput(attrs={
                "list": "wf-institution-options", "autocomplete": "off", "maxlength": 32,
                "placeholder": _("机构代码"), "data-lookup": reverse_lazy("api:institution-list")})
            field.help_text = _("发布范围为单个机构时填写机构代码；输入代码或名称可查找。")
            field.error_messages["invalid_choice"] = _("未找到该机构代码（须为本区县在册机构）。")
        else:
            del self.fields["district"]
            # A head publishes to the staff of an institution they head, nothing else.
            self.fields["scope"].choices = [(Scope.INSTITUTION.value, Scope.INSTITUTION.label)]
            self.fields["scope"].initial = Scope.INSTITUTION
            del self.fields["category"]
            self.fields["institution"].queryset = head_institutions
            self.fields["institution"].required = True
            self.fields["institution"].empty_label = None

    def draft(self) -> services.Draft:
        data = self.cleaned_data
        institution = data.get("institution")
        district = data.get("district")
        return services.Draft(
            title=data["title"], body=data["body"], case_type=data["case_type"], severity=data["severity"],
            scope=data["scope"], category=data.get("category") or "",
            institution_code=institution.code if institution and data["scope"] == Scope.INSTITUTION else "",
            district_code=district.code if district and data["scope"] != Scope.INSTITUTION else "",
            is_public=data["is_public"], names=rules.split_names(data["names"]), publish_at=data["publish_at"],
        )

