"""Everything under /api/v1/, one namespace ("api") gathered from each app's api/urls.py."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("institutions.api.urls")),
]
