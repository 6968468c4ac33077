"""Public, no-login endpoints of scoring: the published blacklist with masked names."""

from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from core.masking import mask_name
from core.ratelimits import PublicReadThrottle

from .. import employee_points


class PublicBlacklistSerializer(serializers.Serializer):
    name = serializers.SerializerMethodField()
    institution = serializers.SerializerMethodField()
    violation = serializers.CharField(source="record.violation_type.name")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()

    def get_name(self, entry) -> str:
        return mask_name(entry.employee.name)

    def get_institution(self, entry) -> dict:
        return {"code": entry.employee.institution.code, "name": entry.employee.institution.name}


class PublicBlacklistView(generics.ListAPIView):
    """Confirmed blacklist entries within their period; people's names masked (黄某)."""

    serializer_class = PublicBlacklistSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [PublicReadThrottle]
    filter_backends = []

    def get_queryset(self):
        return employee_points.published_blacklist()
