"""Accounts that must still replace the temporary password they were created with."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PasswordChangeRequired(models.Model):
    """An account created in bulk with a temporary password: it must be changed at first login."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE,
                                related_name="password_change_required")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        # Created by warnings_feed before accounts existed; the table kept its name when the model moved.
        db_table = "warnings_feed_passwordchangerequired"
        verbose_name = _("待修改初始密码的账号")
        verbose_name_plural = _("待修改初始密码的账号")

    def __str__(self) -> str:
        return str(self.user)
