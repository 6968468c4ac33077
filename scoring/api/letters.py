"""The letters of a published district-year over the API: list, and each file (logged)."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.years import parse_year

from .. import selectors, services
from ..models import LetterDispatch, LinkageLetter
from .views import IsFinanceCenter, _chosen_district

FORMATS = {"pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class LetterSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code")
    use_label = serializers.CharField(source="get_use_display")
    files = serializers.SerializerMethodField()
    dispatches = serializers.IntegerField(source="dispatch_count", read_only=True)

    class Meta:
        model = LinkageLetter
        fields = ["use", "use_label", "number", "serial", "recipient", "institutions", "published_at",
                  "generated_at", "district", "year", "files", "dispatches"]

    def get_files(self, letter) -> dict[str, str]:
        base = f"/api/v1/years/{letter.year}/letters/{letter.use}"
        suffix = f"?district={letter.district.code}"
        return {fmt: f"{base}/{fmt}/{suffix}" for fmt in FORMATS}


DISTRICT = OpenApiParameter("district", OpenApiTypes.STR, description=gettext_lazy("区县代码（本人履职的区县之一）"))


class LetterListView(APIView):
    """该区县该年度的结果运用函（每种用途一份），在其结果公布时生成。"""

    permission_classes = [IsFinanceCenter]

    @extend_schema(parameters=[DISTRICT], responses=LetterSerializer(many=True))
    def get(self, request, year: int):
        year = parse_year(year)
        district = _chosen_district(request, roles=("finance_center",))
        letters = selectors.letters_of(district.pk, year)
        return Response({"year": year, "district": district.code,
                         "results": LetterSerializer(letters, many=True).data})


class LetterFileView(APIView):
    """以 `pdf` 或 `xlsx` 格式下载一份结果运用函；每次下载均记入日志（何人、何时、哪个文号）。"""

    permission_classes = [IsFinanceCenter]

    @extend_schema(parameters=[DISTRICT], responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, year: int, use: str, fmt: str):
        year = parse_year(year)
        district = _chosen_district(request, roles=("finance_center",))
        if fmt not in FORMATS:
            raise Http404(_("未知格式"))
        letter = selectors.letters_of(district.pk, year).filter(use=use).first()
        if letter is None or not getattr(letter, fmt):
            raise Http404(_("尚无该函件（结果发布后生成）"))
        services.record_letter_dispatch(letter, LetterDispatch.Channel.API, request.user.get_username(),
                                        by=request.user, file_format=fmt)
        handle = getattr(letter, fmt).open("rb")
        return FileResponse(handle, as_attachment=True, filename=f"{letter.number}.{fmt}",
                            content_type=FORMATS[fmt])
