"""The API's JSON parser (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES): a body is one JSON object, checked
before any view uses it. A list, a string, a number or `null` is a 400 with a readable message (a view
calling `request.data.get(...)` would answer 500); so is nesting too deep for Python's json module
(RecursionError), and a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, as for a form."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("提交的内容过大。")
    default_code = "too_large"


class JSONObjectParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise PayloadTooLarge()
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("JSON 格式有误：嵌套层级过深。")) from None
        except exceptions.ParseError:
            raise exceptions.ParseError(_("JSON 格式有误，无法解析。")) from None
        if not isinstance(data, dict):
            raise exceptions.ParseError(_("请求内容必须是一个 JSON 对象（{...}）。"))
        return data
