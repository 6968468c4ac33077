"""JSON for every chart (district, institution, city) and the annual report's API.

Thin views: parameters are read by params.py, permissions by permissions.py (a reader's own
districts or institution only: anything else is 404), the figures come from data.py (cached) and
rows.py (bounded pages).
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from institutions.models import InstitutionCategory

from .. import data, params, permissions, rows, services
from . import serializers as s

DISTRICT = OpenApiParameter("district", str,
                            description=_("区县行政区划代码（本人被授权的区县之一；仅授权一个区县时可省略）"))
YEAR = OpenApiParameter("year", int, description=_("年度，默认为有结果的最近年度"))
CATEGORY = OpenApiParameter("category", str, enum=InstitutionCategory.values, description=_("机构类别"))
PAGE = OpenApiParameter("page", int)
PAGE_SIZE = OpenApiParameter("page_size", int, description=_("每页条数（至多 500）"))
CITY = OpenApiParameter("city", str, description=_("设区市行政区划代码（本人被授权的市；默认为其中第一个）"))


class FinanceCenter(BasePermission):
    message = _("只有区金融工作中心可以查看区级看板。")

    def has_permission(self, request, view):
        return permissions.can_see_district(request.user)


class CityViewer(BasePermission):
    message = _("只有市级用户可以查看全市汇总。")

    def has_permission(self, request, view):
        return permissions.can_see_city(request.user)


def _query(request) -> data.DistrictQuery:
    try:
        return params.district_query(request.user, request.query_params)
    except params.ParamError as exc:
        raise ValidationError(exc.errors)


def _page_links(request, page: rows.Page, count: int) -> tuple[str | None, str | None]:
    def link(number: int) -> str:
        query = request.query_params.copy()
        query["page"] = str(number)
        return request.build_absolute_uri(request.path + "?" + query.urlencode())

    nxt = link(page.number + 1) if page.offset + page.size < count else None
    prev = link(page.number - 1) if page.number > 1 else None
    return nxt, prev


class DistrictFigureView(APIView):
    permission_classes = [FinanceCenter]
    figure = ""

    def get(self, request):
        return Response(data.DISTRICT_FIGURES[self.figure](_query(request)))


def _figure_view(figure: str, response, summary: str) -> type[DistrictFigureView]:
    view = type(f"District{figure.title()}View", (DistrictFigureView,), {"figure": figure, "__doc__": summary})
    return extend_schema(parameters=[DISTRICT, YEAR, CATEGORY], responses=response, summary=summary,
                         tags=["dashboards"])(view)


DistrictColoursView = _figure_view("colours", s.ColoursResponse, _("区级看板：四色分布"))
DistrictDistributionView = _figure_view("distribution", s.DistributionResponse, _("区级看板：分数分布"))
DistrictItemsView = _figure_view("items", s.ItemsResponse, _("区级看板：10 项规范的平均分与满分"))
DistrictTrendView = _figure_view("trend", s.TrendResponse, _("区级看板：历年积分（同比）"))
DistrictComplaintsView = _figure_view("complaints", s.ComplaintsResponse,
                                      _("区级看板：举报投诉（按月、按类型）、属实率与平均办理天数"))
DistrictSatisfactionView = _figure_view("satisfaction", s.SatisfactionResponse,
                                        _("区级看板：满意率（按月）及同比变化（百分点）"))
DistrictViolationsView = _figure_view("violations", s.ViolationsResponse, _("区级看板：员工违规件数及同比"))
DistrictAcknowledgementsView = _figure_view("acknowledgements", s.AcknowledgementsResponse,
                                            _("区级看板：警示信息知悉率"))

DistrictRectificationsView = _figure_view("rectifications", s.DashboardRectificationsResponse,
                                          _("区级看板：督查整改（按机构、按条款：整改中、逾期、按期销号与按期整改率）"))
DistrictTrainingsView = _figure_view("trainings", s.DashboardTrainingsResponse,
                                     _("区级看板：各机构员工培训完成率（年度学时要求）"))
DistrictRiskView = _figure_view("risk", s.DashboardRiskResponse,
                                _("区级看板：风险预警统计（按机构：状态、规则、逾期、确认率；不含人员与交易）"))


@extend_schema(parameters=[DISTRICT, YEAR, CATEGORY, PAGE, PAGE_SIZE], responses=s.RankingResponse,
               summary=_("区级看板：积分排名（区内排名，分页）"), tags=["dashboards"])
class DistrictRankingView(APIView):
    permission_classes = [FinanceCenter]

    def get(self, request):
        q = _query(request)
        page = rows.page_from(request.query_params)
        out = rows.district_rows(q, "ranking", "", page)
        nxt, prev = _page_links(request, page, out["count"])
        return Response({"count": out["count"], "next": nxt, "previous": prev, "results": out["results"]})


@extend_schema(parameters=[DISTRICT, YEAR, CATEGORY, PAGE, PAGE_SIZE,
                           OpenApiParameter("key", str, description=_("图中被点击的部分：颜色、分数段、项号、年度、"
                                                                       "类型[:月]、结论或月份"))],
               responses=s.RowsResponse, summary=_("区级看板：图表背后的明细行"), tags=["dashboards"])
class DistrictRowsView(APIView):
    permission_classes = [FinanceCenter]

    def get(self, request, figure: str):
        q = _query(request)
        try:
            out = rows.district_rows(q, figure, str(request.query_params.get("key", ""))[:40],
                                     rows.page_from(request.query_params))
        except rows.UnknownFigure:
            raise Http404
        return Response(out)


class InstitutionView(APIView):
    figure = ""

    def get(self, request, code: str):
        try:
            view = permissions.institution_view(request.user, code)
        except permissions.PermissionDenied as exc:
            raise PermissionDenied(str(exc))
        if self.figure == "history":
            return Response(data.institution_history(view))
        try:
            year = params.year_param(request.query_params, data.Scope(institution_id=view.institution.pk))
        except params.ParamError as exc:
            raise ValidationError(exc.errors)
        return Response(data.INSTITUTION_FIGURES[self.figure](view, year))


def _institution_view(figure: str, response, summary: str, with_year: bool = True) -> type[InstitutionView]:
    view = type(f"Institution{figure.title()}View", (InstitutionView,), {"figure": figure, "__doc__": summary})
    return extend_schema(parameters=[YEAR] if with_year else [], responses=response, summary=summary,
                         tags=["dashboards"])(view)


InstitutionHistoryView = _institution_view("history", s.HistoryResponse, _("机构看板：历年总分、颜色与区内排名"),
                                           with_year=False)
InstitutionItemsView = _institution_view("items", s.InstitutionItemsResponse, _("机构看板：分项得分与全区平均、最高"))
InstitutionComplaintsView = _institution_view("complaints", s.InstitutionComplaintsResponse,
                                              _("机构看板：举报投诉与满意度"))
InstitutionEmployeesView = _institution_view("employees", s.InstitutionEmployeesResponse,
                                             _("机构看板：员工四色分布与警示知悉率"))
InstitutionProgrammeView = _institution_view("programme", s.InstitutionProgrammeResponse,
                                             _("机构看板：本机构督查整改与员工培训完成率"))


def _city(request) -> data.CityQuery:
    try:
        return params.city_query(request.user, request.query_params)
    except params.ParamError as exc:
        raise ValidationError(exc.errors)


@extend_schema(parameters=[CITY, YEAR], responses=s.LeagueResponse, summary=_("全市汇总：各区县清廉金融指数排行"),
               tags=["dashboards"])
class CityLeagueView(APIView):
    permission_classes = [CityViewer]

    def get(self, request):
        return Response(data.city_league(_city(request)))


@extend_schema(parameters=[CITY, YEAR], responses=s.CityTrendResponse, summary=_("全市汇总：各区县指数走势"),
               tags=["dashboards"])
class CityTrendView(APIView):
    permission_classes = [CityViewer]

    def get(self, request):
        return Response(data.city_trend(_city(request)))


# --- the annual report --------------------------------------------------------------------------------


class ReportListView(APIView):
    permission_classes = [FinanceCenter]

    @extend_schema(responses=s.ReportSerializer(many=True), summary=_("年度报告列表"), tags=["reports"])
    def get(self, request):
        reports = permissions.visible_reports(request.user).order_by("-created_at", "-id")[:50]
        return Response(s.ReportSerializer(reports, many=True, context={"request": request}).data)

    @extend_schema(request=s.ReportRequestSerializer, responses={202: s.ReportSerializer},
                   summary=_("生成年度报告（后台任务，返回进度地址）"), tags=["reports"])
    def post(self, request):
        body = s.ReportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        district = permissions.district_for(request.user, body.validated_data.get("district", ""))
        report = services.request_report(district, body.validated_data["year"], request.user)
        report.refresh_from_db()
        return Response(s.ReportSerializer(report, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


def _report(request, pk: int):
    report = permissions.visible_reports(request.user).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


@extend_schema(responses=s.ReportSerializer, summary=_("年度报告的状态与进度"), tags=["reports"])
class ReportDetailView(APIView):
    permission_classes = [FinanceCenter]

    def get(self, request, pk: int):
        report = _report(request, pk)
        report.progress = services.progress_of(report)
        return Response(s.ReportSerializer(report, context={"request": request}).data)


class ReportFileView(APIView):
    permission_classes = [FinanceCenter]
    kind = "pdf"

    def get(self, request, pk: int):
        report = _report(request, pk)
        field = getattr(report, self.kind)
        if not field:
            raise Http404
        return FileResponse(field.open("rb"), as_attachment=True, filename=services.file_name(report, self.kind),
                            content_type=services.CONTENT_TYPES[self.kind])


ReportPdfView = extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY},
                              summary=_("下载年度报告 PDF"), tags=["reports"])(
    type("ReportPdfView", (ReportFileView,), {"kind": "pdf"}))
ReportXlsxView = extend_schema(
    responses={(200, services.CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY},
    summary=_("下载年度报告 Excel 数据包"), tags=["reports"])(
    type("ReportXlsxView", (ReportFileView,), {"kind": "xlsx"}))
