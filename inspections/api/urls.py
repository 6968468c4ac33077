"""/api/v1/inspections/… and /api/v1/rectifications/…"""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("inspections", views.InspectionViewSet, basename="inspection")
router.register("rectifications", views.RectificationViewSet, basename="rectification")

urlpatterns = [*router.urls]
