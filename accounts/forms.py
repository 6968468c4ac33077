from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.utils.translation import gettext_lazy as _


class FirstPasswordForm(PasswordChangeForm):
    email = forms.EmailField(label=_("电子邮箱（选填，用于接收未确认提醒）"), required=False)

    def clean(self):
        cleaned = super().clean()
        old, new = cleaned.get("old_password"), cleaned.get("new_password1")
        # The temporary password was handed out on paper or in a file: keeping it is no change.
        if old and new and old == new:
            self.add_error("new_password1", _("新密码不能与初始密码相同，请设置一个只有您知道的新密码。"))
        return cleaned
