"""Forms of the pages: shape and parse only (who may do what, and every check of the data against
the database, is services.py's)."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.models import InstitutionCategory

from . import services
from .models import ActionStatus, Audience, CampaignKind, KindCategory, ReturnKind


class _ClauseMixin:
    def set_clauses(self, clauses) -> None:
        self.fields["clauses"].choices = [(c.pk, f"{c.number} {c.title[:40]}") for c in clauses]


class ActivityForm(_ClauseMixin, forms.Form):
    kind = forms.TypedChoiceField(label=_("活动类型"), coerce=int)
    title = forms.CharField(label=_("活动名称"), max_length=200)
    held_on = forms.DateField(label=_("活动日期"), widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label=_("地点"), max_length=200, required=False)
    organiser = forms.CharField(label=_("组织者"), max_length=100, required=False)
    participants = forms.TypedMultipleChoiceField(label=_("参加人员（员工名册）"), coerce=int, required=False,
                                                  widget=forms.CheckboxSelectMultiple)
    participant_count = forms.IntegerField(label=_("参加人数"), min_value=0, max_value=100000, required=False,
                                           help_text=_("未逐一勾选人员时填写人数。"))
    description = forms.CharField(label=_("活动内容"), widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                  max_length=5000)
    clauses = forms.TypedMultipleChoiceField(label=_("对应条款"), coerce=int, required=False,
                                             widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, kinds=(), employees=(), clauses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.pk, f"{k.name}（{k.get_category_display()}）") for k in kinds]
        self.fields["participants"].choices = [(e.pk, f"{e.name} {e.employee_no}") for e in employees]
        self.set_clauses(clauses)

    def to_input(self) -> services.ActivityInput:
        d = self.cleaned_data
        return services.ActivityInput(kind_id=d["kind"], title=d["title"], held_on=d["held_on"], place=d["place"],
                                      organiser=d["organiser"], participant_ids=d["participants"],
                                      participant_count=d["participant_count"] or 0,
                                      description=d["description"], clause_ids=d["clauses"])


class MultiFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class CodesInput(forms.TextInput):
    """A box of institution codes; several posted values (as a multiple select posted them) are joined."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            return " ".join(v for v in data.getlist(name) if v) or None
        return super().value_from_datadict(data, files, name)


class InstitutionCodesField(forms.CharField):
    """Institution codes typed in one box, separated by commas, spaces or 、 (a district may have
    thousands of institutions: no option per institution). The service checks them."""

    widget = CodesInput

    def to_python(self, value):
        text = super().to_python(value)
        return [c for c in re.split(r"[\s,，、;；]+", text) if c] if text else []


class MultipleFileField(forms.FileField):
    """Several files in one input (a list after cleaning; the services check each one's content)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultiFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d] or []
        return [single(data, initial)] if data else []


class KindForm(forms.Form):
    category = forms.ChoiceField(label=_("类别"), choices=KindCategory.choices)
    name = forms.CharField(label=_("名称"), max_length=60)


class FilesForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=[("photo", _("照片")), ("material", _("材料"))])
    files = MultipleFileField(label=_("文件"), required=False)


class LedgerFilterForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100, required=False)
    institution = forms.CharField(label=_("机构编码"), max_length=32, required=False)
    category = forms.ChoiceField(label=_("类别"), choices=[("", "—"), *KindCategory.choices], required=False)
    clause = forms.IntegerField(label=_("条款"), min_value=1, max_value=2**31 - 1, required=False,
                                widget=forms.HiddenInput)
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    search = forms.CharField(label=_("关键词"), max_length=100, required=False)


def ledger_filters(query):
    """The ledger's filters from a query string (the page's, or a background export's copy of it); an
    invalid one filters everything out (year -1)."""
    from .selectors import LedgerFilter

    form = LedgerFilterForm(query or None)
    if form.is_bound and not form.is_valid():
        return LedgerFilter(year=-1)
    d = form.cleaned_data if form.is_bound else {}
    return LedgerFilter(year=d.get("year"), institution=d.get("institution") or "",
                        category=d.get("category") or "", clause=d.get("clause"),
                        date_from=d.get("date_from"), date_to=d.get("date_to"),
                        search=(d.get("search") or "").strip())


class TrainingForm(_ClauseMixin, forms.Form):
    title = forms.CharField(label=_("培训主题"), max_length=200)
    held_on = forms.DateField(label=_("培训日期"), widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.DecimalField(label=_("学时"), max_digits=4, decimal_places=1, min_value=0.1, max_value=100)
    trainer = forms.CharField(label=_("授课人"), max_length=100, required=False)
    place = forms.CharField(label=_("地点"), max_length=200, required=False)
    is_warning_education = forms.BooleanField(label=_("警示教育"), required=False)
    description = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                  max_length=5000)
    clauses = forms.TypedMultipleChoiceField(label=_("对应条款"), coerce=int, required=False,
                                             widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, clauses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_clauses(clauses)

    def to_input(self) -> services.TrainingInput:
        d = self.cleaned_data
        return services.TrainingInput(title=d["title"], held_on=d["held_on"], hours=d["hours"], trainer=d["trainer"],
                                      place=d["place"], is_warning_education=d["is_warning_education"],
                                      description=d["description"], clause_ids=d["clauses"])


class ImportForm(forms.Form):
    file = forms.FileField(label=_("签到表（.xlsx 或 .csv，列：工号、姓名，可选 学时）"))


class ActionForm(_ClauseMixin, forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("名称"), max_length=200)
    goals = forms.CharField(label=_("目标"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    measures = forms.CharField(label=_("举措"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                               max_length=5000)
    results = forms.CharField(label=_("成效"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              max_length=5000)
    status = forms.ChoiceField(label=_("状态"), choices=ActionStatus.choices)
    clauses = forms.TypedMultipleChoiceField(label=_("对应条款"), coerce=int, required=False,
                                             widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, clauses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_clauses(clauses)

    def to_input(self) -> services.ActionInput:
        d = self.cleaned_data
        return services.ActionInput(year=d["year"], title=d["title"], goals=d["goals"], measures=d["measures"],
                                    results=d["results"], status=d["status"], clause_ids=d["clauses"])


class CampaignForm(forms.Form):
    title = forms.CharField(label=_("名称"), max_length=200)
    kind = forms.ChoiceField(label=_("类型"), choices=CampaignKind.choices)
    starts_on = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                  max_length=5000)

    def to_input(self, district_code: str) -> services.CampaignInput:
        d = self.cleaned_data
        return services.CampaignInput(title=d["title"], kind=d["kind"], starts_on=d["starts_on"],
                                      ends_on=d["ends_on"], description=d["description"], district_code=district_code)


class NoticeForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000)
    audience = forms.ChoiceField(label=_("发送范围"), choices=Audience.choices)
    category = forms.ChoiceField(label=_("机构类别"), choices=[("", "—"), *InstitutionCategory.choices],
                                 required=False)
    institutions = InstitutionCodesField(label=_("指定机构"), required=False, max_length=20000,
                                         help_text=_("填写机构编码，多个用逗号或空格分隔"))
    campaign = forms.TypedChoiceField(label=_("所属专项行动"), coerce=int, required=False, empty_value=None)
    clause = forms.TypedChoiceField(label=_("对应条款（报送通过后可作佐证）"), coerce=int, required=False,
                                    empty_value=None)
    return_kind = forms.ChoiceField(label=_("报送要求"), choices=ReturnKind.choices, required=False)
    return_within = forms.IntegerField(label=_("报送期限（工作日）"), min_value=1, max_value=250, required=False)
    return_instructions = forms.CharField(label=_("报送说明"), widget=forms.Textarea(attrs={"rows": 2}),
                                          required=False, max_length=5000)
    attachments = MultipleFileField(label=_("附件"), required=False)

    def __init__(self, *args, campaigns=(), clauses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [("", "—")] + [(c.pk, c.title) for c in campaigns]
        self.fields["clause"].choices = [("", "—")] + [(c.pk, f"{c.number} {c.title[:40]}")
                                                      for c in clauses]

    def to_input(self, district_code: str) -> services.NoticeInput:
        d = self.cleaned_data
        return services.NoticeInput(
            title=d["title"], body=d["body"], audience=d["audience"], category=d["category"] or "",
            institution_codes=d["institutions"], return_kind=d["return_kind"] or "",
            return_instructions=d["return_instructions"], return_within=d["return_within"],
            campaign_id=d["campaign"], clause_id=d["clause"], district_code=district_code)


class ReturnForm(forms.Form):
    text = forms.CharField(label=_("报送内容"), widget=forms.Textarea(attrs={"rows": 4}), required=False,
                           max_length=20000)
    file = forms.FileField(label=_("报送文件"), required=False)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("通过")), ("return", _("退回"))])
    reason = forms.CharField(label=_("退回原因"), required=False, max_length=2000)
    working_days = forms.IntegerField(label=_("新的期限（工作日）"), min_value=1, max_value=250, required=False)
