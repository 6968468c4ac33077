from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.years import parse_year
from institutions import access

from .. import exports, rules, selectors, services
from ..models import AggregationRun, Assessment, Indicator, Norms, Scheme, ScoreSheet
from .filtersets import AssessmentFilterSet, ResultFilterSet
from .serializers import (
    AggregationRequestSerializer,
    AssessmentSerializer,
    EntrySerializer,
    EntryValueSerializer,
    IndicatorSerializer,
    NormsSerializer,
    ResultSerializer,
    ReturnSerializer,
    SchemeSerializer,
    YearActionSerializer,
    plain,
)


def _chosen_district(request, roles=()):
    """`?district=` (or a body's `district`) among the caller's districts, else their only one."""
    code = request.query_params.get("district") or (request.data.get("district") if isinstance(
        getattr(request, "data", None), dict) else None)
    return access.resolve_district(request.user, code if isinstance(code, str) else None, roles=roles)


def _reading_district(request):
    """The district whose norms or scheme a reader asks for: `?district=`, else their only district;
    a reader of several districts (the administrator) who names none reads the installation's
    template (None)."""
    code = request.query_params.get("district")
    if code or len(access.visible_districts(request.user)[:2]) < 2:
        return _chosen_district(request)
    return None


def _district_filter_allowed(request) -> None:
    """A list's `?district=` naming a district the caller does not act in is a 404, not an empty list."""
    if request.query_params.get("district"):
        access.resolve_district(request.user, request.query_params["district"])


class IsFinanceCenter(BasePermission):
    message = gettext_lazy("只有区金融工作中心可以执行此操作。")

    def has_permission(self, request, view):
        return access.is_finance_center(request.user)


class NormsView(generics.RetrieveAPIView):
    """该年度的创建标准：项目与条款。"""

    serializer_class = NormsSerializer

    def get_object(self):
        district = _reading_district(self.request)
        norms = Norms.objects.prefetch_related("items__clauses").filter(year=self.kwargs["year"])
        found = (district and norms.filter(district=district).first()) or norms.filter(district__isnull=True).first()
        if found is None and district is None:
            _chosen_district(self.request)  # no template that year: ask the reader to name a district (400)
        if found is None:
            raise Http404
        return found


class SchemeView(generics.RetrieveAPIView):
    """该年度的评分方案：权重、上限、等次区间、联动规则和指标。"""

    serializer_class = SchemeSerializer

    def get_object(self):
        district = _reading_district(self.request)
        scheme = (services.scheme_for(district, self.kwargs["year"]) if district is not None else
                  Scheme.objects.filter(year=self.kwargs["year"], district__isnull=True).first())
        if scheme is None:
            _chosen_district(self.request)  # no template that year: ask the reader to name a district (400)
            raise Http404
        self._district = district
        return Scheme.objects.prefetch_related("indicators__clause").get(pk=scheme.pk)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        district = getattr(self, "_district", None)
        if district is not None:
            from ..models import DistrictYear

            context["district"] = district
            context["district_year"] = DistrictYear.objects.filter(district=district, year=self.kwargs["year"]).first()
        return context


class ResultViewSet(viewsets.ReadOnlyModelViewSet):
    """各机构各年度的结果（API 客户端：仅限已公布年度；机构：仅限本机构）。"""

    serializer_class = ResultSerializer
    filterset_class = ResultFilterSet
    filter_backends = [*viewsets.ReadOnlyModelViewSet.filter_backends]
    ordering_fields = ["rank", "total", "category_rank"]
    ordering = ["year", "district__code", "rank", "institution__code"]
    search_fields = ["institution__name", "institution__code"]

    def get_queryset(self):
        _district_filter_allowed(self.request)
        return selectors.visible_results(self.request.user)

    def get_object(self):
        obj = self.get_queryset().filter(year=self.kwargs["year"], institution__code=self.kwargs["code"]).first()
        if obj is None:
            raise Http404
        return obj

    @extend_schema(responses=ResultSerializer)
    def retrieve(self, request, *args, **kwargs):
        result = self.get_object()
        data = self.get_serializer(result).data
        assessment = Assessment.objects.select_related("scheme", "institution").filter(
            institution=result.institution, year=result.year).first()
        data["indicators"] = indicator_detail(request.user, assessment) if assessment else []
        return Response(data)


def indicator_detail(user, assessment) -> list[dict]:
    sources = selectors.visible_sources(user, assessment)
    submitted = set(ScoreSheet.objects.filter(assessment=assessment, status="submitted")
                    .values_list("source", flat=True))
    weights = {s: assessment.scheme.weight_for(s) for s in submitted}
    params = services.scheme_params(assessment.scheme)
    rows = []
    for indicator in selectors.indicators_with_entries(assessment, sources):
        values = {}
        for source in sources:
            entry = indicator.by_source.get(source)
            if entry is None:
                values[source] = None
            else:
                values[source] = entry.hit if indicator.kind == "red_line" else plain(entry.points)
        row = {**IndicatorSerializer(indicator).data, "values": values}
        if indicator.kind == "basic" and weights and set(weights) <= set(sources):
            # The rule itself, applied to this one indicator: the same rounding as the total's.
            per_source = {s: (indicator.by_source[s].points or 0) if s in indicator.by_source else 0 for s in weights}
            row["combined"] = f"{rules.basic_score(params, list(weights), per_source):.2f}"
        rows.append(row)
    return rows


class FormatBlindNegotiation(DefaultContentNegotiation):
    """`?format=xlsx|csv` names the file type here, not a DRF renderer; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ScoresExportView(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FormatBlindNegotiation

    @extend_schema(parameters=[
        OpenApiParameter("year", int, required=True),
        OpenApiParameter("format", str, enum=["xlsx", "csv"], default="xlsx"),
    ], responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request):
        year = parse_year(request.query_params.get("year"))
        fmt = request.query_params.get("format", "xlsx")
        if year is None:
            return Response({"year": [_("请提供年度，例如 ?year=2026")]}, status=status.HTTP_400_BAD_REQUEST)
        if fmt not in ("xlsx", "csv"):
            return Response({"format": [_("format 应为 xlsx 或 csv")]}, status=status.HTTP_400_BAD_REQUEST)
        results = selectors.visible_results(request.user).filter(year=year)
        if request.query_params.get("district"):
            results = results.filter(district=access.resolve_district(request.user, request.query_params["district"]))
        results = list(results.order_by("district__code", "rank", "institution__code"))
        if fmt == "csv":
            response = HttpResponse(exports.results_csv(results), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(
                exports.results_xlsx(results, int(year)),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="clean-points-{year}.{fmt}"'
        return response


class AssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    """调用者可见的考评；各评分表的状态与进度。"""

    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilterSet
    filter_backends = [*viewsets.ReadOnlyModelViewSet.filter_backends]
    ordering_fields = ["year", "institution__code", "state"]
    ordering = ["-year", "institution__code"]
    search_fields = ["institution__name", "institution__code"]

    def get_queryset(self):
        _district_filter_allowed(self.request)
        return services.visible_assessments(self.request.user).select_related("institution__district")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        page = getattr(self, "_page_ids", None)
        if page is not None:
            context["sheets"] = selectors.sheets_with_progress(page)
            schemes = {a.scheme_id for a in self._page_objects}
            context["indicator_counts"] = dict(Indicator.objects.filter(scheme_id__in=schemes)
                                               .values_list("scheme_id").annotate(n=Count("pk")).order_by())
        return context

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        self._page_objects = page
        self._page_ids = [a.pk for a in page]
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        assessment = self.get_object()
        self._page_objects, self._page_ids = [assessment], [assessment.pk]
        data = self.get_serializer(assessment).data
        data["scheme_status"] = assessment.scheme.status
        data["year_status"] = selectors.district_year_status(assessment)
        data["fillable_sources"] = services.fillable_sources(request.user, assessment)
        sources = selectors.visible_sources(request.user, assessment)
        entries = {}
        for indicator in selectors.indicators_with_entries(assessment, sources):
            entries[indicator.code] = {s: EntrySerializer(e).data for s, e in indicator.by_source.items()}
        data["entries"] = entries
        return Response(data)


def visible_assessment(request, pk) -> Assessment:
    assessment = services.visible_assessments(request.user).select_related("scheme", "institution__district").filter(
        pk=pk).first()
    if assessment is None:
        raise Http404
    return assessment


class EntryView(APIView):
    @extend_schema(request=EntryValueSerializer, responses=EntrySerializer)
    def put(self, request, pk: int, source: str, indicator_code: str):
        """保存草稿评分表中的一个条目。提交 `version` 可防止覆盖他人较新的修改。"""
        assessment = visible_assessment(request, pk)
        body = EntryValueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        raw = request.data.get("hit") if "hit" in request.data else request.data.get("points")
        if isinstance(raw, float):
            raw = repr(raw)  # JSON has no decimals: 36.5 arrives as a float; its shortest text is what was sent
        if raw is None:
            return Response({"detail": _("请提供 points（基础项、加分项）或 hit（红线项）")}, status=400)
        version = body.validated_data.get("version")
        if version is None and request.headers.get("If-Match", "").strip('"').isdigit():
            version = int(request.headers["If-Match"].strip('"'))
        [entry] = services.save_sheet(request.user, assessment, source, [services.SheetRow(
            indicator_code, services.EntryInput(indicator_code=indicator_code, raw_value=raw,
                                                note=body.validated_data.get("note", ""), expected_version=version))])
        return Response(EntrySerializer(entry).data)


class SubmitView(APIView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int, source: str):
        """提交评分表（`self` 自评表由机构负责人提交；其他评分表由指派的评审人提交）。"""
        sheet = services.submit_sheet(request.user, visible_assessment(request, pk), source)
        return Response({"source": sheet.source, "status": sheet.status, "submitted_at": sheet.submitted_at})


class ReturnView(APIView):
    permission_classes = [IsFinanceCenter]

    @extend_schema(request=ReturnSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int, source: str):
        """将已提交的评分表退回草稿，须说明理由（区金融工作中心）。"""
        body = ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        sheet = services.return_sheet(request.user, visible_assessment(request, pk), source,
                                      body.validated_data["reason"])
        return Response({"source": sheet.source, "status": sheet.status, "returned_reason": sheet.returned_reason})


def run_data(run: AggregationRun) -> dict:
    return {"id": run.pk, "year": run.year, "district": run.district.code if run.district_id else None,
            "status": run.status, "progress": services.run_progress(run),
            "institutions": run.institutions_total, "changed": run.results_changed, "error": run.error,
            "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at}


class AggregationListView(APIView):
    permission_classes = [IsFinanceCenter]

    @extend_schema(request=AggregationRequestSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request):
        """启动某年度的汇总计算（在 Celery 工作进程中运行；轮询该次运行以获取进度）。"""
        body = AggregationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        year = body.validated_data["year"]
        district = access.resolve_district(request.user, body.validated_data.get("district"),
                                           roles=("finance_center",))
        run = services.start_aggregation(year, district, request.user)
        return Response(run_data(run), status=202)


class AggregationDetailView(APIView):
    permission_classes = [IsFinanceCenter]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        runs = access.scope_districts(AggregationRun.objects.select_related("district"), request.user,
                                      roles=("finance_center",))
        return Response(run_data(get_object_or_404(runs, pk=pk)))


def year_data(dy) -> dict:
    return {"year": dy.year, "district": dy.district.code, "status": dy.status,
            "notice_ends_on": dy.notice_ends_on, "published_at": dy.published_at}


class YearActionView(APIView):
    """启动调用者所在区县该年度的公示期，或公布其结果（见 API.md “Years”）。"""

    permission_classes = [IsFinanceCenter]
    action_name = ""

    @extend_schema(request=YearActionSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, year: int):
        body = YearActionSerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        district = access.resolve_district(request.user, body.validated_data.get("district")
                                           or request.query_params.get("district"), roles=("finance_center",))
        if year > 9999:
            raise Http404
        try:
            dy = services.district_year(district, year)
        except services.ScoringError:
            raise Http404 from None
        action = services.open_notice if self.action_name == "notice" else services.publish_year
        return Response(year_data(action(dy, request.user)))


class YearNoticeView(YearActionView):
    action_name = "notice"


class YearPublishView(YearActionView):
    action_name = "publish"

