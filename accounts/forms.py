from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _


class FirstPasswordForm(PasswordChangeForm):
    email = forms.EmailField(label=_("电子邮箱（选填，用于接收未确认提醒）"), required=False)
