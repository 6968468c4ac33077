from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("dashboards/", views.index, name="index"),
    path("dashboards/district/", views.district, name="district"),
    path("dashboards/district/rows/<str:figure>/", views.district_rows, name="district-rows"),
    path("dashboards/institutions/<str:code>/", views.institution, name="institution"),
    path("dashboards/city/", views.city, name="city"),
    path("dashboards/reports/", views.reports, name="reports"),
    path("dashboards/reports/<int:pk>/", views.report, name="report"),
    path("dashboards/reports/<int:pk>/<str:kind>/", views.report_file, name="report-file"),
]
