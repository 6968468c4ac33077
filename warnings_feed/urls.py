from django.urls import path

from core.ratelimits import public_read_limited

from . import feeds, views

app_name = "warnings_feed"

urlpatterns = [
    path("warnings/", views.feed, name="feed"),
    path("warnings/<int:pk>/", views.detail, name="detail"),
    path("warnings/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("warnings/manage/", views.manage, name="manage"),
    path("warnings/manage/<int:pk>/", views.manage_detail, name="manage_detail"),
    path("public/warnings/", views.public_list, name="public_list"),
    path("public/warnings/<int:pk>/", views.public_detail, name="public_detail"),
    path("public/warnings/feed.atom", public_read_limited(feeds.PublicWarningsFeed()), name="public_atom"),
]
