from django.urls import path

from . import views

app_name = "tracking"

urlpatterns = [
    path("tracking/", views.items, name="items"),
    path("tracking/<int:pk>/", views.item, name="item"),
    path("tracking/<int:pk>/report/", views.report, name="report"),
    path("tracking/<int:pk>/accept/", views.accept, name="accept"),
    path("tracking/<int:pk>/return/", views.return_item, name="return"),
    path("tracking/evidence/<int:pk>/", views.evidence, name="evidence"),
]
