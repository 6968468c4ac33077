"""The warnings API: the caller's feed, publishing, acknowledging, rates, and the public list."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.api.pagination import StandardPagination
from core.ratelimits import PublicReadThrottle
from core.years import parse_year

from .. import presentation, selectors, services
from ..models import Warning
from .filtersets import FeedFilterSet
from .serializers import PublicWarningSerializer, RatesSerializer, WarningCreateSerializer, WarningSerializer


class WarningViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     viewsets.GenericViewSet):
    """The caller's warnings feed (unread first), publishing (finance center: any scope; institution
    head: own institution), 已阅知悉, and read/acknowledgement rates. Opening one marks it read.
    Names in title and body are masked (黄某) for everyone but the finance center."""

    serializer_class = WarningSerializer
    lookup_value_regex = r"\d+"
    filter_backends = [DjangoFilterBackend]
    filterset_class = FeedFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Warning.objects.none()
        return selectors.feed(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now(),
                "reveal_names": presentation.reveals_names(self.request.user), "reader": self.request.user}

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data["unread_count"] = selectors.unread_count(request.user)
        return response

    def retrieve(self, request, *args, **kwargs):
        warning = self.get_object()
        services.mark_read(request.user, warning)
        return Response(self.get_serializer(warning).data)

    @extend_schema(request=WarningCreateSerializer, responses={201: WarningSerializer})
    def create(self, request, *args, **kwargs):
        form = WarningCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        warning = services.publish(request.user, services.Draft(
            title=data["title"], body=data["body"], case_type=data["case_type"], severity=data["severity"],
            scope=data["scope"], category=data["category"], institution_code=data["institution_code"],
            district_code=data["district"], is_public=data["is_public"], names=data["names"],
            publish_at=data["publish_at"],
        ))
        warning = self.get_queryset().get(pk=warning.pk)
        return Response(self.get_serializer(warning).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: WarningSerializer,
                                            403: OpenApiResponse(description=gettext_lazy("不是接收人"))})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """已阅知悉: records when (the first time); acknowledging implies read."""
        warning = self.get_object()
        services.acknowledge(request.user, warning)
        return Response(self.get_serializer(warning).data)

    def _rates_scope(self):
        """Whose deliveries the caller's rates count: its districts' institutions (finance center)
        and the institutions it heads."""
        if not selectors.may_manage(self.request.user):
            raise PermissionDenied(_("只有区金融工作中心和机构负责人可以查看阅读和知悉情况。"))
        return selectors.rates_scope(self.request.user)

    @extend_schema(responses=RatesSerializer(many=True))
    @action(detail=True, methods=["get"])
    def rates(self, request, pk=None):
        """一条警示信息按机构统计的阅读率和已阅知悉率（机构负责人：仅本机构）。"""
        where = self._rates_scope()
        warning = self.get_object()
        rows = selectors.rates_by_institution(warning_ids=[warning.pk], where=where)
        total = selectors.rates_total(warning_ids=[warning.pk], where=where)
        return Response({"warning": warning.pk, "total": total.as_dict(),
                         "institutions": RatesSerializer(rows, many=True).data})

    @extend_schema(responses=RatesSerializer(many=True), operation_id="v1_warnings_rates_by_institution")
    @action(detail=False, methods=["get"], url_path="rates", url_name="rates-by-institution")
    def rates_by_institution(self, request):
        """全部警示信息按机构统计的阅读率和已阅知悉率（可用 `?year=` 限定年度）。"""
        where = self._rates_scope()
        since = None
        year = parse_year(request.query_params.get("year"))
        if year is not None:
            since = timezone.make_aware(timezone.datetime(year, 1, 1))
        # Paginated as every list (`?page=`, `?page_size=`): a province has 5,000 institutions. The
        # rows are under "results" and, as before, "institutions".
        # Every year: the stored tallies (kept by the services and rebuilt nightly, as the dashboards
        # read them; counting 2,000,000 deliveries grouped took 0.6 s of a 0.7 s answer in a
        # province). A year: the deliveries since it.
        paginator = StandardPagination()
        if since is None:
            rows = paginator.paginate_queryset(selectors.tally_rates_by_institution_rows(where=where), request,
                                               view=self)
            rates = selectors.as_tally_rates(rows)
        else:
            rows = paginator.paginate_queryset(selectors.rates_by_institution_rows(where=where, since=since),
                                               request, view=self)
            rates = selectors.as_rates(rows)
        data = RatesSerializer(rates, many=True).data
        response = paginator.get_paginated_response(data)
        response.data["institutions"] = data
        return response


class PublicWarningViewSet(viewsets.ReadOnlyModelViewSet):
    """标记为公开的警示信息，任何人可查看（无需登录）。人名一律脱敏。"""

    serializer_class = PublicWarningSerializer
    lookup_value_regex = r"\d+"
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [PublicReadThrottle]
    filter_backends = []

    def get_queryset(self):
        return selectors.public_warnings()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "reveal_names": False}
