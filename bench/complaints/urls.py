"""The portal's URLs plus /bench/ping, a trivial Django view: the ceiling for the same server."""

from django.http import HttpResponse
from django.urls import include, path


def ping(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/ping", ping), path("", include("config.urls"))]
