"""Pages: the employees' mobile feed, the heads' publish-and-follow page and the public warnings.
Thin: reads come from selectors, writes go through services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import NotAllowed
from core.ratelimits import public_read_limited
from institutions import access
from institutions.models import Institution, Role

from . import presentation, selectors, services
from .forms import PublishForm

FEED_PAGE_SIZE = 20
MANAGE_PAGE_SIZE = 20
PENDING_PAGE_SIZE = 100
INSTITUTION_RATES_PAGE_SIZE = 100

# Errors the services report per API field, shown on the page's fields.
_FORM_FIELDS = {"institution_code": "institution"}


class _CountedPaginator(Paginator):
    """A paginator told its count (counted by a cheaper query than COUNT over the grouped rows)."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count  # Paginator.count is a cached property: this is its value


def _page(request: HttpRequest, queryset, size: int):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


# --- employees ------------------------------------------------------------------------------------

@login_required
def feed(request: HttpRequest) -> HttpResponse:
    """The caller's warnings, unread first (a phone page; works without JavaScript)."""
    page = _page(request, selectors.feed(request.user), FEED_PAGE_SIZE)
    return render(request, "warnings_feed/feed.html", {
        "page": page,
        "items": presentation.shown(page.object_list, reveal_names=presentation.reveals_names(request.user),
                                    reader=request.user),
        "unread": selectors.unread_count(request.user),
        "may_manage": selectors.may_manage(request.user),
    })


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One warning; opening it marks it read."""
    warning = get_object_or_404(selectors.feed(request.user), pk=pk)
    services.mark_read(request.user, warning)
    item = presentation.shown([warning], reveal_names=presentation.reveals_names(request.user, warning))[0]
    return render(request, "warnings_feed/detail.html", {"item": item})


@require_POST
@login_required
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    warning = get_object_or_404(selectors.feed(request.user), pk=pk)
    try:
        services.acknowledge(request.user, warning)
    except NotAllowed as refusal:
        messages.error(request, str(refusal))
        return redirect("warnings_feed:detail", pk=pk)
    messages.success(request, _("已确认知悉：%(title)s") % {
        "title": presentation.title_for(warning, reveal_names=presentation.reveals_names(request.user, warning))})
    return redirect("warnings_feed:feed")


# --- finance center and institution heads ---------------------------------------------------------

def _manager(request: HttpRequest) -> tuple[bool, Q | None]:
    """(is finance center, whose deliveries their figures count: selectors.rates_scope) or 403."""
    if not selectors.may_manage(request.user):
        raise PermissionDenied(_("只有区金融工作中心和机构负责人可以发布和跟踪警示信息。"))
    return access.is_finance_center(request.user), selectors.rates_scope(request.user)


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    """Publish a warning (a finance center: in its districts; a head: to their own staff) and follow
    read and acknowledgement rates."""
    finance, where = _manager(request)
    form = PublishForm(request.POST or None, finance_center=finance,
                       districts=access.visible_districts(request.user, (Role.FINANCE_CENTER,)) if finance else None,
                       head_institutions=Institution.objects.filter(
                           pk__in=selectors.head_institution_ids(request.user)).order_by("code"))
    if request.method == "POST" and form.is_valid():
        try:
            warning = services.publish(request.user, form.draft())
        except NotAllowed as refusal:
            form.add_error(None, str(refusal))
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                target = _FORM_FIELDS.get(field, field)
                form.add_error(target if target in form.fields else None, problems)
        else:
            messages.success(request, _("警示信息已发布，正在送达范围内的员工。")
                             if presentation.status_of(warning) == "published"
                             else _("警示信息已定时，到发布时间后送达。"))
            return redirect("warnings_feed:manage_detail", pk=warning.pk)
    page = _page(request, selectors.managed_warnings(request.user), MANAGE_PAGE_SIZE)
    # From the stored tallies, not the deliveries (2,000,000 in a province; issue 16).
    rates = selectors.tally_rates_by_warning([w.pk for w in page.object_list], where=where)
    # Every institution's rates, a page at a time (`?rpage=`): 5,000 rows in a province (issue 16).
    institution_rates = _CountedPaginator(selectors.tally_rates_by_institution_rows(where=where),
                                          INSTITUTION_RATES_PAGE_SIZE,
                                          count=selectors.tally_rates_institution_count(where=where)
                                          ).get_page(request.GET.get("rpage"))
    institution_rates.object_list = selectors.as_tally_rates(institution_rates.object_list)
    reveal = presentation.reveals_names(request.user)
    items = presentation.shown(page.object_list, reveal_names=reveal, reader=request.user)
    return render(request, "warnings_feed/manage.html", {
        "form": form,
        "page": page,
        "rows": [(item, rates.get(item.pk)) for item in items],
        "institution_rates": institution_rates.object_list,
        "institution_rates_page": institution_rates,
        "finance": finance,
    }, status=400 if request.method == "POST" else 200)


@login_required
def manage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One warning: rates per institution and who has not acknowledged yet (a head: own staff)."""
    finance, where = _manager(request)
    warning = get_object_or_404(selectors.managed_warnings(request.user), pk=pk)
    pending = _page(request, selectors.not_acknowledged(warning, where=where), PENDING_PAGE_SIZE)
    return render(request, "warnings_feed/manage_detail.html", {
        "item": presentation.shown([warning], reveal_names=presentation.reveals_names(request.user, warning))[0],
        "total": selectors.rates_total(warning_ids=[warning.pk], where=where),
        "institution_rates": selectors.rates_by_institution(warning_ids=[warning.pk], where=where),
        "pending": pending,
        "finance": finance,
    })


# --- public ---------------------------------------------------------------------------------------

@public_read_limited
def public_list(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.public_warnings(), FEED_PAGE_SIZE)
    return render(request, "warnings_feed/public_list.html", {
        "page": page, "items": presentation.shown(page.object_list, reveal_names=False)})


@public_read_limited
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    warning = get_object_or_404(selectors.public_warnings(), pk=pk)
    return render(request, "warnings_feed/public_detail.html", {
        "item": presentation.shown([warning], reveal_names=False)[0]})

