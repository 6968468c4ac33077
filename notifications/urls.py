from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.overview, name="overview"),
    path("notifications/mine/", views.save_mine, name="save-mine"),
    path("notifications/institutions/<str:code>/", views.save_institution, name="save-institution"),
    path("notifications/districts/<str:code>/", views.save_district, name="save-district"),
    path("notifications/questionnaire-push/", views.upload_push_list, name="push-upload"),
]
