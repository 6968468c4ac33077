"""Everything under /api/v1/, one namespace ("api") gathered from each app's api/urls.py."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("institutions.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("scoring.api.urls")),
    path("", include("staff_points.api.urls")),
    path("", include("complaints.api.urls")),
    path("", include("warnings_feed.api.urls")),
    path("", include("dashboards.api.urls")),
    path("", include("tracking.api.urls")),
    path("", include("inspections.api.urls")),
    path("", include("activities.api.urls")),
    path("", include("risk.api.urls")),
]
