from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("inspections/", views.visits, name="visits"),
    path("inspections/new/", views.visit_new, name="visit_new"),
    path("inspections/plan/", views.plan, name="plan"),
    path("inspections/<int:pk>/", views.visit, name="visit"),
    path("inspections/<int:pk>/findings/", views.visit_finding, name="visit_finding"),
    path("inspections/<int:pk>/photos/", views.visit_photos, name="visit_photos"),
    path("inspections/<int:pk>/bonuses/", views.visit_bonus, name="visit_bonus"),
    path("inspections/<int:pk>/notice.pdf", views.visit_notice, name="visit_notice"),
    path("inspections/photos/<int:pk>/", views.photo, name="photo"),
    path("rectifications/", views.rectifications, name="rectifications"),
    path("rectifications/<int:pk>/", views.rectification, name="rectification"),
    path("rectifications/<int:pk>/report/", views.rectification_report, name="rectification_report"),
    path("rectifications/<int:pk>/accept/", views.rectification_accept, name="rectification_accept"),
    path("rectifications/<int:pk>/return/", views.rectification_return, name="rectification_return"),
]
