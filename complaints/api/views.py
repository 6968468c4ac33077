"""/api/v1/public/complaints/… (no login) and /api/v1/complaints/… (staff), as API.md says."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import JSONObjectParser
from core.years import parse_year

from .. import intake, rules, selectors, services, throttle
from ..crypto import format_receipt_code
from ..images import MAX_REQUEST_BYTES
from ..models import Complaint
from . import serializers as s


class Throttled(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = gettext_lazy("请求过于频繁，请稍后再试。")
    default_code = "throttled"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("提交内容过大：最多3张图片，每张不超过5MB。")
    default_code = "too_large"


class PublicSubmitView(APIView):
    """提交对某机构的评价、意见建议、投诉或举报（无需登录）。

    请求体为 JSON 或 multipart（至多 3 张 JPEG/PNG/WebP 图片，每张不超过 5 MB，可放在任意文件字段）。
    multipart 中的 `ratings` 可为 JSON 字符串，也可分别使用 rating_attitude / rating_efficiency /
    rating_integrity 字段。
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [JSONObjectParser, MultiPartParser, FormParser]

    @extend_schema(request={"application/json": s.PublicSubmitRequestSerializer,
                            "multipart/form-data": s.PublicSubmitRequestSerializer},
                   responses={201: s.PublicReceiptSerializer})
    def post(self, request):
        try:
            too_large = int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REQUEST_BYTES
        except ValueError:
            too_large = True
        if too_large:  # refused before the body is read
            raise PayloadTooLarge()
        data = request.data
        public_code = str(data.get("public_code") or "").strip()
        institution_code = str(data.get("institution_code") or "").strip()
        if throttle.submission_limited(request, public_code or institution_code):
            raise Throttled()
        files = [f for key in request.FILES for f in request.FILES.getlist(key)]
        try:
            institution = intake.resolve_institution(public_code=public_code[:64],
                                                     institution_code=institution_code[:64])
            submission = intake.build_submission(data, files, institution, channel=Complaint.Channel.API)
        except intake.IntakeErrors as exc:
            raise exceptions.ValidationError(exc.errors)
        receipt = services.submit(submission)
        return Response({"receipt_code": format_receipt_code(receipt.receipt_code),
                         "status": receipt.complaint.status, "received_at": receipt.complaint.received_at},
                        status=status.HTTP_201_CREATED)


class PublicStatusView(APIView):
    """凭受理回执编码查询单件办理进度：仅含状态、日期和公开答复。"""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: s.PublicStatusSerializer})
    def get(self, request, receipt_code: str):
        if throttle.tracking_limited(request):
            raise Throttled()
        case = selectors.find_by_receipt(receipt_code)
        if case is None:
            raise exceptions.NotFound(_("未找到该回执码对应的记录。"))
        return Response(s.PublicStatusSerializer(s.public_status_data(selectors.public_view(case))).data)


class CanUseQueue(permissions.BasePermission):
    message = gettext_lazy("只有区金融工作中心、区纪委和被转办机构的负责人可以查看举报投诉。")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and selectors.can_use_queue(request.user))


def _bool(value: str | None) -> bool | None:
    return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(
        (value or "").strip().lower())


@extend_schema(parameters=[
    OpenApiParameter("status", OpenApiTypes.STR, enum=Complaint.Status.values),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=Complaint.Kind.values),
    OpenApiParameter("institution", OpenApiTypes.STR, description=gettext_lazy("机构编码（或 id）")),
    OpenApiParameter("overdue", OpenApiTypes.BOOL),
    OpenApiParameter("due", OpenApiTypes.STR, enum=["soon"]),
    OpenApiParameter("district", OpenApiTypes.STR, description=gettext_lazy("本人履职的区县之一（否则 404）")),
])
class ComplaintViewSet(viewsets.ReadOnlyModelViewSet):
    """投诉举报分办队列：调用者可见的件（区金融工作中心：全部；纪检：已移送的；机构负责人：交办本机构的，
    不含投诉举报人身份信息）。"""

    permission_classes = [CanUseQueue]
    serializer_class = s.ComplaintListSerializer
    filter_backends: list = []
    queryset = Complaint.objects.none()

    def get_queryset(self):
        params = self.request.query_params
        status_filter = params.get("status", "")
        kind = params.get("kind", "")
        errors = {}
        if status_filter and status_filter not in Complaint.Status.values:
            errors["status"] = [_("未知状态：{status_filter}").format(status_filter=status_filter)]
        if kind and kind not in Complaint.Kind.values:
            errors["kind"] = [_("未知类型：{kind}").format(kind=kind)]
        overdue = params.get("overdue")
        if overdue not in (None, "") and _bool(overdue) is None:
            errors["overdue"] = [_("overdue 应为 true 或 false。")]
        if errors:
            raise exceptions.ValidationError(errors)
        return selectors.case_list(self.request.user, status=status_filter, kind=kind,
                                   institution=params.get("institution", "").strip(), overdue=_bool(overdue),
                                   due=params.get("due", ""), district=params.get("district", ""))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def _detail(self, request, pk) -> Response:
        try:
            case = selectors.case_detail(request.user, int(pk))
        except (Complaint.DoesNotExist, ValueError):
            raise Http404
        sides = selectors.case_sides(request.user, case)
        policy = selectors.CasePolicy.for_sides(sides)
        context = {**self.get_serializer_context(), "policy": policy, "notes": selectors.notes_for(case, policy),
                   "identity": services.masked_identity(case) if policy.identity else None,
                   "tracked_item": selectors.tracked_item(case),
                   "allowed_actions": rules.allowed_actions(status=case.status, kind=case.kind, sides=sides,
                                                            extensions=case.extensions, basis=case.basis)}
        return Response(s.ComplaintDetailSerializer(case, context=context).data)

    @extend_schema(responses=s.ComplaintDetailSerializer)
    def retrieve(self, request, pk=None):
        return self._detail(request, pk)

    def _visible(self, request, pk) -> Complaint:
        try:
            return selectors.visible_cases(request.user).select_related("institution").get(pk=int(pk))
        except (Complaint.DoesNotExist, ValueError):
            raise Http404

    @extend_schema(request=s.ActionRequestSerializer, responses=s.ComplaintDetailSerializer,
                   parameters=[OpenApiParameter("action_name", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                enum=list(rules.ACTIONS))])
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<action_name>[a-z_]+)")
    def perform(self, request, pk=None, action_name: str = ""):
        """执行一项办理流程操作；当前状态下不允许的操作返回 409。"""
        case = self._visible(request, pk)
        if action_name not in rules.TRANSITIONS:
            raise exceptions.NotFound(_("未知的操作：{action}").format(action=action_name))
        body = s.ActionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        target = values.get("target")
        if target is not None and not selectors.visible_cases(request.user).filter(pk=target).exists():
            raise exceptions.ValidationError({"target": [_("合并目标不存在。")]})
        # A refusal (services.ServiceError) is answered by the API's exception handler.
        services.perform_action(case.pk, action_name, request.user, services.ActionInput(
            reason=values.get("reason", ""), outcome=values.get("outcome", ""), reply=values.get("reply", ""),
            approval=values.get("approval", ""), target=target, version=values.get("version"),
            basis=values.get("basis", ""), reply_within=values.get("reply_within")))
        return self._detail(request, pk)

    @extend_schema(request=s.NoteRequestSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """添加内部备注（区金融工作中心亦可添加公开答复）。"""
        case = self._visible(request, pk)
        body = s.NoteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.add_note(case, request.user, body.validated_data["body"], public=body.validated_data["public"])
        return self._detail(request, pk)

    @extend_schema(request=s.RevealRequestSerializer, responses=s.ContactSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        """查看投诉举报人的姓名和电话（仅限区金融工作中心）；每次查看均连同理由记入日志。"""
        case = self._visible(request, pk)
        body = s.RevealRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            identity = services.reveal_identity(case, request.user, body.validated_data["reason"])
        response = Response({"name": identity.name, "phone": identity.phone})
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(parameters=[OpenApiParameter("year", OpenApiTypes.INT),
                               OpenApiParameter("district", OpenApiTypes.STR,
                                                description=gettext_lazy("本人履职的区县之一（默认：全部）"))],
                   responses=inline_serializer("ComplaintStatistics", {
                       "year": serializers.IntegerField(),
                       "district": serializers.CharField(allow_null=True), "total": serializers.IntegerField(),
                       "by_kind": serializers.DictField(), "by_month": serializers.DictField(),
                       "by_outcome": serializers.DictField(), "concluded": serializers.IntegerField(),
                       "substantiation_rate": serializers.DecimalField(max_digits=5, decimal_places=1),
                       "average_handling_days": serializers.DecimalField(max_digits=6, decimal_places=1),
                       "on_time": serializers.IntegerField(),
                       "on_time_rate": serializers.DecimalField(max_digits=5, decimal_places=1),
                       "by_institution": serializers.ListField(), "satisfaction_by_month": serializers.DictField(),
                   }))
    @action(detail=False, methods=["get"], permission_classes=[permissions.IsAuthenticated])
    def stats(self, request):
        """按机构、类型、月份和办理结果统计件数；属实率和按时办结率。"""
        scope = selectors.stats_scope(request.user, request.query_params.get("district", ""))  # NotFound: 404
        if scope is None:
            raise exceptions.PermissionDenied(_("只有区金融工作中心、市级用户和机构负责人可以查看统计。"))
        year = parse_year(request.query_params.get("year"), timezone.localdate().year)
        data = selectors.statistics(year, where=scope.where)
        return Response({
            "year": data.year, "district": scope.district.code if scope.district else None,
            "total": data.total, "by_kind": data.by_kind, "by_month": data.by_month,
            "by_outcome": data.by_outcome, "concluded": data.concluded,
            "substantiation_rate": _dec(data.substantiation_rate),
            "average_handling_days": _dec(data.average_handling_days), "on_time": data.on_time,
            "on_time_rate": _dec(data.on_time_rate),
            "by_institution": [{**row, "avg_rating": None if row["avg_rating"] is None else round(row["avg_rating"], 2),
                                "substantiation_rate": _dec(row["substantiation_rate"])}
                               for row in data.by_institution],
            "satisfaction_by_month": {m: {**v, "rate": _dec(v["rate"])} for m, v in
                                      data.satisfaction_by_month.items()},
        })


def _dec(value) -> str | None:
    return None if value is None else str(value)

