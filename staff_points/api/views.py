"""Public, no-login endpoints of employees' points: the published blacklist with masked names."""

from rest_framework import generics
from rest_framework.permissions import AllowAny

from core.ratelimits import PublicReadThrottle

from .. import selectors
from .serializers import PublicBlacklistSerializer


class PublicBlacklistView(generics.ListAPIView):
    """Confirmed blacklist entries within their period, of the districts that chose to publish their
    blacklist (off by default); people's names masked (黄某). 200 always."""

    serializer_class = PublicBlacklistSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [PublicReadThrottle]
    filter_backends = []

    def get_queryset(self):
        return selectors.public_blacklist()
