from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.reverse import reverse

from .. import access
from ..models import Institution
from .filtersets import InstitutionFilterSet
from .mixins import InstitutionScopedMixin
from .serializers import InstitutionSerializer, MeSerializer


class InstitutionViewSet(InstitutionScopedMixin, viewsets.ReadOnlyModelViewSet):
    """金融机构名录（机构用户仅可查看本机构）。"""

    queryset = Institution.objects.select_related("district").order_by("code")
    serializer_class = InstitutionSerializer
    filterset_class = InstitutionFilterSet
    search_fields = ["name", "short_name", "code"]
    ordering_fields = ["code", "name", "category"]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    institution_path = ""


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """当前调用者：用户名、角色、所属机构及其履职的区县。"""
    user = request.user
    ids = access.own_institution_ids(user)
    institutions = list(Institution.objects.filter(pk__in=ids).order_by("code")) if ids else []
    data = {
        "username": user.get_username(),
        "roles": sorted(access.user_roles(user) | ({"superuser"} if user.is_superuser else set())),
        "institution": institutions[0] if institutions else None,
        "institutions": institutions,
        "districts": list(access.visible_districts(user).values_list("code", flat=True)),
    }
    return Response(MeSerializer(data).data)


@extend_schema(exclude=True)
@api_view(["GET"])
def api_root(request, format=None):
    return Response({
        "institutions": reverse("api:institution-list", request=request, format=format),
        "me": reverse("api:me", request=request, format=format),
        "token": reverse("api:token", request=request, format=format),
        "schema": request.build_absolute_uri("/api/schema/"),
        "docs": request.build_absolute_uri("/api/docs/"),
    })
