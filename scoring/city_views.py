"""The city page of the exchange (市级清廉金融指数): the city's districts ranked by the index with the
city's own weights and the formula, from local published results and packages imported from the
districts' installations; the weights form and the package upload (city users, the administrator)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.years import parse_year

from . import rules, selectors, services

UPLOAD_LIMIT = 50 * 1024 * 1024


def _city(request, code: str | None):
    cities = services.cities_of(request.user)
    if not cities.exists():
        raise PermissionDenied(_("只有市级用户可以访问此页面。"))
    code = (code or "").strip()
    city = cities.filter(code=code).first() if code else cities.first()
    if city is None:
        raise Http404(_("未找到该市"))
    return city, cities


def _back(city, year) -> str:
    from django.urls import reverse

    return f"{reverse('scoring:city-exchange')}?city={city.code}&year={year}"


@login_required
def city_exchange(request):
    city, cities = _city(request, request.GET.get("city"))
    try:
        year = parse_year(request.GET.get("year"), default=timezone.localdate().year - 1)
    except DomainError as exc:
        messages.error(request, str(exc))
        year = timezone.localdate().year - 1
    weights = services.city_weights(city)
    rows = selectors.city_exchange_rows(city, year, weights)
    return render(request, "scoring/city_exchange.html", {
        "city": city, "cities": cities, "year": year, "rows": rows, "weights": weights,
        "formula": rules.city_index_formula(weights),
        "components": [(k, rules.CITY_INDEX_COMPONENT_NAMES_ZH[k], weights[k]) for k in rules.CITY_INDEX_COMPONENTS],
    })


@login_required
@require_POST
def city_weights(request):
    city, _cities = _city(request, request.POST.get("city"))
    year = request.POST.get("year", "")
    try:
        services.save_city_weights(city, {k: request.POST.get(k) for k in rules.CITY_INDEX_COMPONENTS},
                                   request.user)
        messages.success(request, _("%(city)s指数权重已保存。") % {"city": city.name})
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect(_back(city, year if year.isdigit() and len(year) == 4 else ""))


@login_required
@require_POST
def city_import(request):
    city, _cities = _city(request, request.POST.get("city"))
    upload = request.FILES.get("file")
    year = request.POST.get("year", "")
    back = _back(city, year if year.isdigit() and len(year) == 4 else "")
    if upload is None:
        messages.error(request, _("请选择区县导出的结果数据包（JSON 文件）。"))
        return redirect(back)
    if upload.size > UPLOAD_LIMIT:
        messages.error(request, _("数据包过大（上限 50 MB）。"))
        return redirect(back)
    try:
        package, outcome = services.import_city_package(upload.read(), request.user)
    except DomainError as exc:
        messages.error(request, _("导入失败：%(error)s") % {"error": exc})
        return redirect(back)
    words = {"created": _("%(district)s %(year)s 年度数据包已导入。"),
             "updated": _("%(district)s %(year)s 年度数据包已更新。"),
             "unchanged": _("%(district)s %(year)s 年度数据包与已导入的数据包相同，未改变。")}
    messages.success(request, words[outcome] % {"district": package.district.name, "year": package.year})
    return redirect(_back(city, str(package.year)))
