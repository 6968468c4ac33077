"""/api/v1/public/complaints/… and /api/v1/complaints/… (API.md, "Complaints")."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("complaints", views.ComplaintViewSet, basename="complaint")

urlpatterns = [
    path("public/complaints/", views.PublicSubmitView.as_view(), name="public-complaint-submit"),
    path("public/complaints/<str:receipt_code>/", views.PublicStatusView.as_view(), name="public-complaint-status"),
    *router.urls,
]
