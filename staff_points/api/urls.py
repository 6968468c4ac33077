"""Included from config/api_urls.py into the "api" namespace (under /api/v1/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("public/blacklist/", views.PublicBlacklistView.as_view(), name="public-blacklist"),
]
