"""Server-rendered dashboard pages. Charts are drawn in the browser by static/dashboards/charts.js
(ECharts, served from static/) from the JSON endpoints named in each chart's data- attributes;
key figures and tables are rendered here so that the pages read well without JavaScript too.

Every page is scoped to the reader (permissions.py): a finance center's own districts, a head's own
institution, a city user's granted districts; anything else is 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.years import parse_year
from institutions.models import InstitutionCategory

from . import data, params, permissions, rows, services
from .models import AnnualReport
from .selectors import Scope, scheme_years


def _qs(**values) -> str:
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})


@login_required
def index(request):
    """Where "数据看板" leads: the finance center's district, the city's roll-up or the head's institution."""
    user = request.user
    if permissions.can_see_district(user):
        return redirect("dashboards:district")
    if permissions.can_see_city(user):
        return redirect("dashboards:city")
    institution = permissions.own_institution(user)
    if institution is not None:
        return redirect("dashboards:institution", code=institution.code)
    raise PermissionDenied(_("您的账号没有可查看的数据看板。"))


def _finance_only(request) -> None:
    if not permissions.can_see_district(request.user):
        raise PermissionDenied(_("只有区金融工作中心可以查看区级看板和年度报告。"))


def _district_query(request) -> data.DistrictQuery:
    try:
        return params.district_query(request.user, request.GET, default_first=True)
    except params.ParamError as exc:
        raise Http404("; ".join(exc.errors.values()))


# The programme panels list at most this many institutions each, those that most need attention
# first; the whole list is the panel's JSON (issue 16: 5,000 institutions in three tables made the
# page 3.5 MB and 13 s).
PROGRAMME_ROWS = 20


def _attention_first(figure: dict, key) -> dict:
    rows_ = figure.get("institutions") or []
    return {**figure, "institutions": sorted(rows_, key=key)[:PROGRAMME_ROWS], "institutions_count": len(rows_)}


def _programme(q: data.DistrictQuery) -> dict:
    return {
        "rectifications": _attention_first(data.rectifications(q), lambda r: (
            -r["overdue"], -r["open"], -r["total"], r["code"])),
        "trainings": data.trainings_panel(q, PROGRAMME_ROWS),  # chosen and summed in SQL, as data.trainings sorted
        "risk": data.risk_panel(q, PROGRAMME_ROWS),  # chosen and summed in SQL, the same as sorting data.risk
    }


@login_required
@require_GET
def district(request):
    _finance_only(request)
    q = _district_query(request)
    query = _qs(district=q.district.code, year=q.year, category=q.category)
    api = {figure: reverse(f"api:dashboards-district-{figure}") + "?" + query
           for figure in (*data.DISTRICT_FIGURES, "ranking")}
    rows_url = {figure: reverse("dashboards:district-rows", kwargs={"figure": figure}) + "?" + query
                for figure in rows.ROW_FIGURES}
    version = data.results_version_of([q.district.pk], q.year, q.year - 1)  # one reading for both
    ranking = data.ranking_rows(q, version)
    return render(request, "dashboards/district.html", {
        "q": q, "query": query, "api": api, "rows_url": rows_url,
        # The complaint, satisfaction, violation and acknowledgement figures are filled in by charts.js
        # from the JSON its charts fetch anyway: computing them here as well doubled the page's cost
        # (issue 16: 0.5 s for a district of 5,000 institutions).
        "colours": data.colours(q, version),
        **_programme(q),
        "ranking": ranking[:20], "ranking_count": len(ranking),
        "years": sorted(set(scheme_years(q.district.pk)) | {q.year}, reverse=True),
        "categories": InstitutionCategory.choices,
        "districts": permissions.finance_districts(request.user),
        "can_see_city": permissions.can_see_city(request.user),
    })


@login_required
@require_GET
def district_rows(request, figure: str):
    _finance_only(request)
    q = _district_query(request)
    key = str(request.GET.get("key", ""))[:40]
    page = rows.page_from(request.GET)
    try:
        out = rows.district_rows(q, figure, key, page)
    except rows.UnknownFigure:
        raise Http404
    keys = [c["key"] for c in out["columns"]]
    link = keys.index("name") if "name" in keys else 0  # the drill-down link sits on the institution's name
    table = [{"cells": [(c["label"], row.get(c["key"]), i == link) for i, c in enumerate(out["columns"])],
              "url": row.get("url")} for row in out["results"]]
    base = _qs(district=q.district.code, year=q.year, category=q.category, key=key, page_size=page.size)
    last = max(1, -(-out["count"] // page.size))
    return render(request, "dashboards/rows.html", {
        "q": q, "out": out, "table": table, "page": page, "last": last, "base": base,
        "back": reverse("dashboards:district") + "?" + _qs(district=q.district.code, year=q.year,
                                                            category=q.category),
        "json_url": reverse("api:dashboards-district-rows", kwargs={"figure": figure}) + "?" + base,
    })


@login_required
@require_GET
def institution(request, code: str):
    view = permissions.institution_view(request.user, code)
    inst = view.institution
    history = data.institution_years(view)
    try:
        year = params.year_param(request.GET, Scope(institution_id=inst.pk))
    except params.ParamError as exc:
        raise Http404("; ".join(exc.errors.values()))
    if not view.district_wide and "year" not in request.GET and history:
        year = history[-1]["year"]  # a head lands on the latest result shown to them
    api = {figure: reverse(f"api:dashboards-institution-{figure}", kwargs={"code": inst.code}) + f"?year={year}"
           for figure in ("history", "items", "complaints", "employees", "programme")}
    current = next((y for y in history if y["year"] == year), None)
    return render(request, "dashboards/institution.html", {
        "inst": inst, "year": year, "api": api, "history": {"years": history}, "current": current,
        "complaints": data.institution_complaints(view, year), "employees": data.institution_employees(view, year),
        "programme": data.institution_programme(view, year),
        "years": sorted({y["year"] for y in history} | {year}, reverse=True),
        "is_finance_center": view.district_wide,
        "back": reverse("dashboards:district") + "?" + _qs(district=inst.district.code, year=year),
    })


@login_required
@require_GET
def city(request):
    if not permissions.can_see_city(request.user):
        raise PermissionDenied(_("只有市级用户可以查看全市汇总。"))
    try:
        q = params.city_query(request.user, request.GET)
    except params.ParamError as exc:
        raise Http404("; ".join(exc.errors.values()))
    query = _qs(city=q.city.code, year=q.year)
    weights = data.city_weights(q)
    return render(request, "dashboards/city.html", {
        "city": q.city, "year": q.year, "league": data.city_league(q),
        "weights": {k: format(v.normalize(), "f") for k, v in weights.items()},
        "api": {"league": reverse("api:dashboards-city-league") + "?" + query,
                "trend": reverse("api:dashboards-city-trend") + "?" + query},
        "years": scheme_years(),
        "cities": permissions.visible_cities(request.user),
    })


# --- the annual report ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def reports(request):
    _finance_only(request)
    if request.method == "POST":
        district_ = permissions.district_for(request.user, str(request.POST.get("district", "")), default_first=True)
        year = parse_year(request.POST.get("year"))  # out of 2000–2100: DomainError, a 400 page
        if year is None:
            return render(request, "core/refused.html", {"message": _("请选择区县和年度。"), "status": 400}, status=400)
        report = services.request_report(district_, year, request.user)
        messages.success(request, _("已开始生成 %(district)s %(year)s 年度报告。")
                         % {"district": district_.name, "year": year})
        return redirect("dashboards:report", pk=report.pk)
    districts = list(permissions.finance_districts(request.user))
    # The district and year the user came from (the dashboard links here with them), else the
    # user's own district: never silently the first of the list.
    wanted = str(request.GET.get("district", ""))[:12]
    chosen = next((d for d in districts if d.code == wanted), None) or (
        permissions.district_for(request.user, "", default_first=True) if districts else None)
    years = scheme_years(chosen.pk if chosen else None)
    year = str(request.GET.get("year", ""))
    return render(request, "dashboards/reports.html", {
        "reports": permissions.visible_reports(request.user)[:50],
        "districts": districts, "chosen": chosen,
        "years": years, "chosen_year": int(year) if year.isdigit() and int(year) in years else None,
    })


def _report(user, pk: int) -> AnnualReport:
    report = permissions.visible_reports(user).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


@login_required
@require_GET
def report(request, pk: int):
    _finance_only(request)
    report_ = _report(request.user, pk)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"id": report_.pk, "status": report_.status, "progress": services.progress_of(report_),
                             "step": services.step_label(report_.step), "error": report_.error})
    return render(request, "dashboards/report.html", {
        "report": report_, "progress": services.progress_of(report_), "step": services.step_label(report_.step),
        "status_url": reverse("dashboards:report", kwargs={"pk": report_.pk}),
    })


@login_required
@require_GET
def report_file(request, pk: int, kind: str):
    _finance_only(request)
    report_ = _report(request.user, pk)
    if kind not in services.CONTENT_TYPES or not getattr(report_, kind):
        raise Http404
    return FileResponse(getattr(report_, kind).open("rb"), as_attachment=True,
                        filename=services.file_name(report_, kind), content_type=services.CONTENT_TYPES[kind])
