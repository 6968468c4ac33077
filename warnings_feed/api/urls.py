"""/api/v1/warnings/… and /api/v1/public/warnings/…"""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("warnings", views.WarningViewSet, basename="warning")
router.register("public/warnings", views.PublicWarningViewSet, basename="public-warning")

urlpatterns = [*router.urls]
