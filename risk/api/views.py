"""风险预警 API (RISK.md "API"): employees, uploads, screenings, alerts and their actions, rule
settings, suppressions and the district summary. Thin: services decide, selectors scope."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from core.errors import NotFound
from core.years import parse_year
from institutions import access
from institutions.models import Role

from .. import rules, selectors, services
from .filtersets import AlertFilterSet
from .serializers import (
    AlertActionSerializer,
    AlertSerializer,
    AssignSerializer,
    EmployeeSerializer,
    ForwardSerializer,
    RuleSettingSerializer,
    ScreeningCreateSerializer,
    ScreeningSerializer,
    SuppressionSerializer,
    UploadCreateSerializer,
    UploadSerializer,
)


class EmployeeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """员工名录：机构用户查看本机构员工，区金融工作中心查看本区县的员工。"""

    serializer_class = EmployeeSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.visible_employees(self.request.user)


class UploadViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """以 CSV 或 XLSX 导入一份数据抽取（资金交易 / 客户关系 / 系统操作）：全部成功或全部不导入。"""

    serializer_class = UploadSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.own_uploads(self.request.user)

    @extend_schema(request=UploadCreateSerializer,
                   responses={201: UploadSerializer, 400: OpenApiResponse(description=gettext_lazy("错误信息"))})
    def create(self, request, *args, **kwargs):
        form = UploadCreateSerializer(data=request.data)
        if not form.is_valid():
            # refuse a non-actor before telling them what is wrong with the form
            services.acting_institution(request.user, request.data.get("institution"))
            messages = [f"{name}: {error}" for name, errors in form.errors.items() for error in errors]
            return Response({**form.errors, "errors": [{"line": 1, "message": m} for m in messages]}, status=400)
        data = form.validated_data
        institution = services.acting_institution(request.user, data["institution"])
        upload = data["file"]
        if upload.size > 300 * 1024 * 1024:
            return Response({"errors": [{"line": 1, "message": _("文件过大（上限 300 MB）")}]}, status=400)
        try:
            stored = services.load_extract(request.user, institution, data["kind"], upload.read(), upload.name)
        except services.LoadRefused as refused:
            return Response({"detail": str(refused), "errors": [{"line": p.line, "message": p.message}
                                                                for p in refused.problems]}, status=400)
        return Response(UploadSerializer(stored).data, status=status.HTTP_201_CREATED)


class ScreeningViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ScreeningSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        return selectors.own_screenings(self.request.user)

    @extend_schema(request=ScreeningCreateSerializer, responses={201: ScreeningSerializer})
    def create(self, request, *args, **kwargs):
        institution = services.acting_institution(request.user, request.data.get("institution"))
        form = ScreeningCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        screening = services.request_screening(request.user, institution, data["from"], data["to"])
        return Response(ScreeningSerializer(screening).data, status=status.HTTP_201_CREATED)


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """本机构的风险预警核查队列；区金融工作中心仅可见已上报的预警。"""

    serializer_class = AlertSerializer
    lookup_value_regex = r"\d+"
    filterset_class = AlertFilterSet
    ordering_fields = ["raised_on", "due_on", "id"]
    search_fields: list = []

    def get_queryset(self):
        return selectors.visible_alerts(self.request.user).order_by("-raised_on", "-pk")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    @extend_schema(request=AlertActionSerializer, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<verb>review|dismiss|confirm|escalate)")
    def act(self, request, pk=None, verb=None):
        """处理一条风险预警：review 核查 / dismiss 排除（须填写说明）/ confirm 确认（可同时扣减清廉积分）/
        escalate 上报。"""
        alert = self.get_object()
        form = AlertActionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        alert = services.act(request.user, alert, verb, form.validated_data["note"],
                             violation_code=form.validated_data["violation_code"])
        return Response(self.get_serializer(self.get_queryset().get(pk=alert.pk)).data)

    @extend_schema(request=AssignSerializer, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"], url_path="actions/assign")
    def assign(self, request, pk=None):
        """将一条尚未处理完毕的风险预警分派给本机构的填报员或负责人核查（或取消分派）。"""
        alert = self.get_object()
        form = AssignSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        alert = services.assign(request.user, alert, form.validated_data["assignee"])
        return Response(self.get_serializer(self.get_queryset().get(pk=alert.pk)).data)

    @extend_schema(request=ForwardSerializer, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"], url_path="actions/forward")
    def forward(self, request, pk=None):
        """区金融工作中心将已上报的风险预警转送（如转区纪委监委）。"""
        alert = self.get_object()
        form = ForwardSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        alert = services.forward(request.user, alert, form.validated_data["to"], form.validated_data["note"])
        return Response(self.get_serializer(self.get_queryset().get(pk=alert.pk)).data)


class SuppressionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = SuppressionSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        return selectors.own_suppressions(self.request.user)

    def create(self, request, *args, **kwargs):
        institution = services.acting_institution(request.user, request.data.get("institution"))
        form = SuppressionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        created = services.suppress(request.user, institution, data["rule"], data["employee_no"],
                                    counterparty_id=data.get("counterparty_id", ""), period=data.get("period", ""),
                                    reason=data["reason"])
        return Response(SuppressionSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def lift(self, request, pk=None):
        """解除一项屏蔽：自下一次筛查起，该键值重新产生预警。"""
        services.delete_suppression(request.user, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def _rules_payload(institution) -> list[dict]:
    current = services.effective_rules(institution.pk)
    return [{"code": r.code, "title": r.title, "severity": r.severity, "version": r.version,
             "enabled": current[r.code][0], "params": current[r.code][1],
             "defaults": r.defaults(), "description": r.description} for r in rules.RULES.values()]


@extend_schema(responses={200: OpenApiResponse(description=gettext_lazy("本机构的规则"))})
@api_view(["GET"])
def rule_list(request):
    """规则库，含本机构各规则的开关与参数。"""
    institution = services.acting_institution(request.user, request.query_params.get("institution"))
    return Response({"institution": institution.code, "results": _rules_payload(institution)})


@extend_schema(request=RuleSettingSerializer, responses={200: OpenApiResponse(description=gettext_lazy("该规则"))})
@api_view(["POST"])
def rule_change(request, code: str):
    """开启/关闭一条规则或修改其参数，须说明理由（连同操作人一并记录）。"""
    institution = services.acting_institution(request.user, request.data.get("institution"))
    if code not in rules.RULES:
        raise NotFound(_("没有规则 {code}").format(code=code))
    form = RuleSettingSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    data = form.validated_data
    services.change_rule(request.user, institution, code, enabled=data["enabled"], params=data["params"],
                         reason=data["reason"])
    return Response(next(r for r in _rules_payload(institution) if r["code"] == code))


@extend_schema(responses={200: OpenApiResponse(description=gettext_lazy("本区县各机构"))})
@api_view(["GET"])
def summary(request):
    """本区县各机构已存储的统计数字（区金融工作中心）：不含任何个人和交易明细。"""
    if not access.is_finance_center(request.user):
        raise PermissionDenied(_("只有区金融工作中心可以查看全区风险预警统计。"))
    district = access.resolve_district(request.user, request.query_params.get("district"),
                                       roles=[Role.FINANCE_CENTER])
    year = parse_year(request.query_params.get("year"), timezone.localdate().year)
    return Response({"district": district.code, "year": year, "results": selectors.summary(district, year)})



