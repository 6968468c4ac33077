from django.utils.translation import gettext_lazy as _
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
    """用户名与密码。"""

    # DRF's serializer with the lengths a login can have: a 5,000-character username is a 400, not
    # a 500 when django-axes records the failed attempt in its 255-character column.

    username = serializers.CharField(label=_("用户名"), max_length=150, write_only=True)
    password = serializers.CharField(label=_("密码"), max_length=4096, style={"input_type": "password"},
                                     trim_whitespace=False, write_only=True)


class TokenView(ObtainAuthToken):
    """以用户名和密码换取 API 令牌。

    批量创建后仍使用初始临时密码的账号不可使用：在网页上修改密码（首次登录）之前返回 403，与该账号的
    其他请求相同。令牌有效期内返回原令牌；已过期的令牌（API_TOKEN_TTL_DAYS）将被替换为新令牌。
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
