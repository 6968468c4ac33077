from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from .. import lockout
from ..authentication import MUST_CHANGE_PASSWORD, token_expired
from ..services import password_change_required


class BoundedAuthTokenSerializer(AuthTokenSerializer):
    """DRF's serializer with the lengths a login can have: a 5,000-character username is a 400, not
    a 500 when django-axes records the failed attempt in its 255-character column."""

    username = serializers.CharField(label="用户名", max_length=150, write_only=True)
    password = serializers.CharField(label="密码", max_length=4096, style={"input_type": "password"},
                                     trim_whitespace=False, write_only=True)


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token.

    Not for an account still on the temporary password it was created with in bulk: 403 until it
    is changed on the web (first login), like every other request of such an account. The account's
    token is returned while it is valid; an expired one (API_TOKEN_TTL_DAYS) is replaced.
    """

    throttle_classes = ()
    serializer_class = BoundedAuthTokenSerializer

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if lockout.locked_out(request):  # axes refused even to check the password: say why
                return lockout.json_response()
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        if password_change_required(user):
            raise PermissionDenied(MUST_CHANGE_PASSWORD)
        token, _created = Token.objects.get_or_create(user=user)
        if token_expired(token):  # expired: replaced by a fresh one
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key})
