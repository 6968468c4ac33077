"""The inspections API (API.md, "Inspections and rectification"): visits and their findings, and
rectifications (one per finding: its tracked item's state) with report, accept and return."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.errors import DomainError, NotAllowed
from institutions import access

from .. import selectors, services
from ..models import Finding, Visit
from .serializers import (
    InspectionBonusCreateSerializer,
    InspectionFindingCreateSerializer,
    InspectionVisitCreateSerializer,
    InspectionVisitDetailSerializer,
    InspectionVisitSerializer,
    RectificationAcceptSerializer,
    RectificationDetailSerializer,
    RectificationReportSerializer,
    RectificationReturnSerializer,
    RectificationSerializer,
)

STATUSES = ("open", "reported", "closed", "overdue")


def _district_filter(request, qs):
    code = request.query_params.get("district")
    if code:
        district = access.resolve_district(request.user, code)
        qs = qs.filter(district=district)
    return qs


def _files(request) -> list:
    return [f for key in request.FILES for f in request.FILES.getlist(key)]


class InspectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        viewsets.GenericViewSet):
    """Visits (督查): recorded by the finance center and inspectors of the district; seen by them and
    by the visited institution's filer and head. `?district=`, `?institution=`, `?year=` filter."""

    lookup_value_regex = r"\d+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_serializer_class(self):
        return InspectionVisitDetailSerializer if self.action == "retrieve" else InspectionVisitSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Visit.objects.none()
        qs = selectors.visible_visits(self.request.user)
        if self.action == "list":
            qs = (_district_filter(self.request, qs).annotate(findings_count=Count("findings"))
                  .order_by("-visited_on", "-id"))
            institution = self.request.query_params.get("institution")
            if institution:
                qs = qs.filter(institution__code=institution)
            year = self.request.query_params.get("year", "")
            if year.isdigit() and len(year) == 4:
                qs = qs.filter(visited_on__year=int(year))
        elif self.action == "retrieve":
            qs = qs.prefetch_related("findings__tracked_item", "photos", "bonus_confirmations__indicator")
        return qs

    @extend_schema(request=InspectionVisitCreateSerializer, responses={201: InspectionVisitDetailSerializer})
    def create(self, request, *args, **kwargs):
        if not (access.is_superuser(request.user) or access.district_ids(request.user, *services.INSPECTOR_ROLES)):
            raise NotAllowed(_("只有区金融工作中心或检查组可以记录督查。"))
        form = InspectionVisitCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        institution = services.institution_for(request.user, data["institution_code"])
        visit = services.record_visit(request.user, institution, services.VisitInput(
            visited_on=data["visited_on"], kind=data["kind"], team=data["team"], notes=data["notes"],
            people_met=data["people_met"], joint_with_discipline=data["joint_with_discipline"]),
            photos=_files(request))
        visit = selectors.visit_detail(request.user, visit.pk)
        return Response(InspectionVisitDetailSerializer(visit).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InspectionFindingCreateSerializer, responses={201: RectificationSerializer})
    @action(detail=True, methods=["get", "post"])
    def findings(self, request, pk=None):
        """GET：该次督查发现的问题；POST：记录一个问题（区金融工作中心、检查人员）。"""
        visit = self.get_object()
        if request.method == "GET":
            rows = selectors.visible_findings(request.user).filter(visit=visit).order_by("id")
            return Response(RectificationSerializer(rows, many=True).data)
        form = InspectionFindingCreateSerializer(data=request.data)
        if not services.may_inspect(request.user, visit.district_id):
            raise NotAllowed(_("只有区金融工作中心或检查组可以记录发现问题。"))
        form.is_valid(raise_exception=True)
        data = form.validated_data
        finding = services.add_finding(visit, request.user, clause=data["clause"], description=data["description"],
                                       severity=data["severity"], rectify_within=data["rectify_within"])
        finding = selectors.visible_findings(request.user).get(pk=finding.pk)
        return Response(RectificationSerializer(finding).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: InspectionVisitDetailSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def photos(self, request, pk=None):
        """添加现场照片（multipart；原件加密封存，工作副本去除元数据）。"""
        visit = self.get_object()
        services.add_photos(visit, request.user, _files(request))
        return Response(InspectionVisitDetailSerializer(selectors.visit_detail(request.user, visit.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=InspectionBonusCreateSerializer, responses={201: InspectionVisitDetailSerializer})
    @action(detail=True, methods=["post"])
    def bonuses(self, request, pk=None):
        """Confirm a bonus item (加分项) of the institution's year with its evidence."""
        visit = self.get_object()
        if not services.may_inspect(request.user, visit.district_id):
            raise NotAllowed(_("只有区金融工作中心或检查组可以确认加分项。"))
        form = InspectionBonusCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.confirm_bonus(visit, request.user, indicator_code=form.validated_data["indicator"],
                               evidence=form.validated_data["evidence"])
        return Response(InspectionVisitDetailSerializer(selectors.visit_detail(request.user, visit.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"], url_path="notice")
    def notice(self, request, pk=None):
        """The visit's rectification notice (整改通知书, PDF)."""
        visit = self.get_object()
        data = services.notice_pdf(visit)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="notice-{visit.pk}.pdf"'
        return response


class RectificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Rectifications (整改): one per finding. Institution users see their own institution's only."""

    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        return RectificationDetailSerializer if self.action == "retrieve" else RectificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Finding.objects.none()
        qs = selectors.visible_findings(self.request.user)
        if self.action == "list":
            qs = _district_filter(self.request, qs)
            status_ = self.request.query_params.get("status", "")
            if status_ and status_ not in STATUSES:
                raise DomainError(_("status 须为 open、reported、closed 或 overdue。"), field="status")
            qs = selectors.filter_findings(qs, status=status_,
                                           institution=self.request.query_params.get("institution", ""))
            qs = qs.order_by("tracked_item__due_on", "id")
        elif self.action == "retrieve":
            qs = qs.prefetch_related("tracked_item__replies__files", "tracked_item__events")
        return qs

    @extend_schema(parameters=[
        OpenApiParameter("status", str, enum=["open", "reported", "closed", "overdue"]),
        OpenApiParameter("institution", str, description=gettext_lazy("机构编码")),
        OpenApiParameter("district", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _answer(self, finding):
        return Response(RectificationSerializer(selectors.visible_findings(self.request.user).get(pk=finding.pk)).data)

    @extend_schema(request=RectificationReportSerializer, responses=RectificationSerializer)
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def report(self, request, pk=None):
        """机构的填报员或负责人报送整改措施（及佐证材料）：→ reported（已报送，待审核）。"""
        finding = self.get_object()
        form = RectificationReportSerializer(data=request.data)
        if not services.tracking.may_report(request.user, finding.tracked_item):
            raise NotAllowed(_("只有本机构的填报员或负责人可以报送整改情况。"))
        form.is_valid(raise_exception=True)
        services.report(finding, request.user, measures=form.validated_data["measures"], files=_files(request))
        return self._answer(finding)

    @extend_schema(request=RectificationAcceptSerializer, responses=RectificationSerializer)
    @action(detail=True, methods=["post"], url_path="actions/accept")
    def accept(self, request, pk=None):
        """销号 (finance center, inspector): reported → closed."""
        finding = self.get_object()
        form = RectificationAcceptSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.accept(finding, request.user, note=form.validated_data["note"])
        return self._answer(finding)

    @extend_schema(request=RectificationReturnSerializer, responses=RectificationSerializer)
    @action(detail=True, methods=["post"], url_path="actions/return", url_name="return")
    def return_(self, request, pk=None):
        """退回整改，须说明理由（区金融工作中心、检查人员）：reported → open（待整改）；`rectify_within`
        将新的整改期限设为自今日起该数量的工作日。"""
        finding = self.get_object()
        if not services.tracking.may_review(request.user, finding.tracked_item):
            raise NotAllowed(_("只有区金融工作中心或检查组可以审核整改情况。"))
        form = RectificationReturnSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        services.return_finding(finding, request.user, reason=data["reason"],
                                rectify_within=data.get("rectify_within"))
        return self._answer(finding)
