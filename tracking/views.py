"""Pages of tracked items of every kind (督办事项): the institution's list and reply, the reviewers'
overdue list and accept/return, the history, and evidence downloads. Thin: selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotAllowed, NotFound

from . import selectors, services
from .models import Kind

PAGE_SIZE = 30
STATUSES = [("open", gettext_lazy("待整改")), ("overdue", gettext_lazy("已逾期")), ("reported", gettext_lazy("待审核")),
            ("closed", gettext_lazy("已销号"))]


def _refused(request, exc: DomainError) -> None:
    if isinstance(exc, NotAllowed | NotFound):
        raise exc
    messages.error(request, str(exc))


@login_required
def items(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    qs = selectors.filter_status(selectors.visible_items(request.user), status)
    if kind in Kind.values:
        qs = qs.filter(kind=kind)
    page = Paginator(qs.order_by("due_on", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tracking/items.html", {
        "page": page, "status": status, "kind": kind, "statuses": STATUSES, "kinds": Kind.choices,
        "counts": selectors.counts(selectors.visible_items(request.user))})


def _item(request, pk):
    item = selectors.item_detail(request.user, pk)
    if item is None:
        raise Http404
    return item


@login_required
def item(request: HttpRequest, pk: int) -> HttpResponse:
    row = _item(request, pk)
    return render(request, "tracking/item.html", {
        "item": row, "replies": row.replies.all(), "history": row.events.all(),
        "may_report": services.may_report(request.user, row) and row.status == "open",
        "may_review": services.may_review(request.user, row) and row.status == "reported"})


@require_POST
@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    row = _item(request, pk)
    try:
        services.report(row, request.user, measures=request.POST.get("measures", ""),
                        files=request.FILES.getlist("evidence"))
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已报送，等待审核。"))
    return redirect("tracking:item", pk=row.pk)


@require_POST
@login_required
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    row = _item(request, pk)
    try:
        services.accept(row, request.user, note=request.POST.get("note", ""))
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已审核通过，予以销号。"))
    return redirect("tracking:item", pk=row.pk)


@require_POST
@login_required
def return_item(request: HttpRequest, pk: int) -> HttpResponse:
    row = _item(request, pk)
    try:
        services.return_item(row, request.user, reason=request.POST.get("reason", ""),
                             working_days=request.POST.get("rectify_within", "").strip() or None)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已退回，要求重新办理。"))
    return redirect("tracking:item", pk=row.pk)


@login_required
def evidence(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.evidence_file(request.user, pk)
    if row is None:
        raise Http404
    return FileResponse(row.file.open("rb"), content_type=row.content_type, as_attachment=True, filename=row.name)
