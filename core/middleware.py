"""Pages get the same answer as the API for a refusal a service raises (core.errors): one mapping of
the error hierarchy to HTTP. The API's mapping is the DRF exception handler (core/api/exceptions.py);
this is the pages' side, so a view never turns a `NotFound` into a 500."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from . import error_pages
from .errors import DomainError, NotAllowed, NotFound


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotFound):
            return error_pages.page_not_found(request, Http404(str(exception)))
        if isinstance(exception, NotAllowed):
            return error_pages.permission_denied(request, PermissionDenied(str(exception)))
        return render(request, "core/refused.html", {"message": str(exception), "status": exception.status},
                      status=exception.status)
