"""The district's published year as a package for the city: JSON (with its schema) or xlsx."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.years import parse_year

from .. import exchange, services
from .views import IsFinanceCenter, _chosen_district

DISTRICT = OpenApiParameter("district", OpenApiTypes.STR, description=_("区县代码（本人履职的区县之一）"))


def _package(request, year):
    district = _chosen_district(request, roles=("finance_center",))
    return services.district_package(services.district_year(district, parse_year(year)), request.user)


class PackageView(APIView):
    """数据包（模式 `clean-finance/district-results`，版本 1；见 /api/v1/exchange/schema/）。"""

    permission_classes = [IsFinanceCenter]

    @extend_schema(parameters=[DISTRICT], responses=OpenApiTypes.OBJECT)
    def get(self, request, year: int):
        package = _package(request, year)
        response = Response(package)
        response["Content-Disposition"] = (f'attachment; filename="district-results-{package["district"]["code"]}'
                                           f'-{package["year"]}.json"')
        return response


class PackageXlsxView(APIView):
    """同一数据包的 xlsx 版本，供人工阅读。"""

    permission_classes = [IsFinanceCenter]

    @extend_schema(parameters=[DISTRICT], responses={(200, "application/vnd.openxmlformats-officedocument."
                                                           "spreadsheetml.sheet"): OpenApiTypes.BINARY})
    def get(self, request, year: int):
        package = _package(request, year)
        response = HttpResponse(exchange.render_xlsx(package), content_type="application/vnd.openxmlformats-"
                                                                            "officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = (f'attachment; filename="district-results-{package["district"]["code"]}'
                                           f'-{package["year"]}.xlsx"')
        return response


class PackageSchemaView(APIView):
    """数据包的 JSON Schema（公开：不含任何数据）。"""

    permission_classes = []
    authentication_classes = []

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(exchange.schema())
