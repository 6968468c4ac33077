from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Kind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("数据类型"), choices=Kind.choices)
    file = forms.FileField(label=_("文件（CSV 或 XLSX）"))


class ScreeningForm(forms.Form):
    date_from = forms.DateField(label=_("起始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"}))
