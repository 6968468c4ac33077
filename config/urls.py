from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from config import ops_metrics  # noqa: F401 (registers the project's /metrics figures)
from core import export_views, health, metrics
from core.api.schema import CachedSchemaView
from institutions import views as institution_views

admin.site.site_header = _("清廉金融管理平台")
admin.site.site_title = _("清廉金融管理平台")
admin.site.index_title = _("管理首页")

urlpatterns = [
    path("", institution_views.home, name="home"),
    # Operations (API.md): liveness, readiness, Prometheus metrics (core.health, core.metrics).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("exports/<int:pk>/", export_views.export_job, name="export-job"),
    path("exports/<int:pk>/file/", export_views.export_file, name="export-file"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The scripts' strings in the page's language (locale/*/LC_MESSAGES/djangojs.po).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/v1/", include("config.api_urls", namespace="api")),
    # Built once per process, language and format (core/api/schema.py), not on every request.
    path("api/schema/", CachedSchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("", include("accounts.urls")),
    path("", include("notifications.urls")),
    path("", include("scoring.urls")),
    path("", include("staff_points.urls")),
    path("", include("complaints.urls")),
    path("", include("warnings_feed.urls")),
    path("", include("dashboards.urls")),
    path("", include("tracking.urls")),
    path("", include("inspections.urls")),
    path("", include("activities.urls")),
    path("", include("risk.urls")),
]

# The error pages in the user's language, with the reason and a way back (also under DEBUG=False).
handler400 = "core.error_pages.bad_request"
handler403 = "core.error_pages.permission_denied"
handler404 = "core.error_pages.page_not_found"
handler500 = "core.error_pages.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
