"""The first-login password change of accounts created in bulk (forced by the middleware)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from . import services
from .forms import FirstPasswordForm
from .middleware import SESSION_KEY


@login_required
def first_password(request: HttpRequest) -> HttpResponse:
    """Change the temporary password of an account created in bulk (forced at first login)."""
    form = FirstPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        services.password_changed(user, email=form.cleaned_data["email"])
        request.session.pop(SESSION_KEY, None)
        messages.success(request, _("密码已修改。"))
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            target = resolve_url(settings.LOGIN_REDIRECT_URL)
        return redirect(target)
    return render(request, "accounts/first_password.html", {"form": form})
