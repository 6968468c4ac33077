"""/api/v1/employees/ and /api/v1/risk/… (RISK.md "API")."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("employees", views.EmployeeViewSet, basename="employee")
router.register("risk/uploads", views.UploadViewSet, basename="risk-upload")
router.register("risk/screenings", views.ScreeningViewSet, basename="risk-screening")
router.register("risk/alerts", views.AlertViewSet, basename="risk-alert")
router.register("risk/suppressions", views.SuppressionViewSet, basename="risk-suppression")

urlpatterns = [
    path("risk/rules/", views.rule_list, name="risk-rules"),
    path("risk/rules/<str:code>/", views.rule_change, name="risk-rule-change"),
    path("risk/summary/", views.summary, name="risk-summary"),
    *router.urls,
]
