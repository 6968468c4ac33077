from django.urls import path

from . import views

app_name = "risk"

urlpatterns = [
    path("risk/", views.queue, name="queue"),
    path("risk/alerts/<int:pk>/", views.alert, name="alert"),
    path("risk/alerts/<int:pk>/<str:verb>/", views.alert_action, name="alert_action"),
    path("risk/upload/", views.upload, name="upload"),
    path("risk/screen/", views.screen, name="screen"),
    path("risk/summary/", views.summary, name="summary"),
]
