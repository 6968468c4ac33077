"""/api/schema/ built once per process, not on every request (issue 16: 0.8–2.5 s a request).

The OpenAPI document depends on the code (the URL conf, the views and serializers), the API version
and the language of its descriptions, never on who asks: drf-spectacular serves the public schema
(`SERVE_PUBLIC`), every view answers `swagger_fake_view` with an empty queryset, and
tests/ops/test_scale_pages.py checks that anonymous visitors, institution users and the
administrator get the same bytes. So it is generated without a caller (as `manage.py spectacular`
does) and kept in this process's memory, per language, version, URL conf and output format (YAML
or JSON), until the process restarts, which every deploy does. A few hundred KB per language and
format.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpResponse
from django.urls import get_urlconf
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView

_lock = threading.Lock()
_schemas: dict[tuple, dict] = {}
_rendered: dict[tuple, bytes] = {}


def clear() -> None:
    """Forget the built schemas (tests that change the URL conf or the API settings)."""
    with _lock:
        _schemas.clear()
        _rendered.clear()


class CachedSchemaView(SpectacularAPIView):
    def _schema_key(self, version) -> tuple:
        urlconf = self.urlconf or get_urlconf() or settings.ROOT_URLCONF
        return (type(self).__qualname__, translation.get_language(), version, str(urlconf),
                id(self.patterns) if self.patterns is not None else None, self.serve_public,
                repr(sorted((self.custom_settings or {}).items())))

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = self._schema_key(version)
        schema = _schemas.get(key)
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            schema = generator.get_schema(request=None, public=self.serve_public)
            with _lock:
                _schemas[key] = schema
        renderer, media_type = request.accepted_renderer, request.accepted_media_type
        rendered_key = (*key, type(renderer).__qualname__, media_type)
        content = _rendered.get(rendered_key)
        if content is None:
            content = renderer.render(schema, media_type, self.get_renderer_context())
            if isinstance(content, str):
                content = content.encode(renderer.charset or "utf-8")
            with _lock:
                _rendered[rendered_key] = content
        content_type = f"{media_type}; charset={renderer.charset}" if renderer.charset else media_type
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, version)}"'
        return response


def _settings_changed(*, setting, **kwargs) -> None:
    if setting in ("ROOT_URLCONF", "SPECTACULAR_SETTINGS", "REST_FRAMEWORK", "LANGUAGES", "LANGUAGE_CODE"):
        clear()


setting_changed.connect(_settings_changed)
