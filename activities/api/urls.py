"""/api/v1/ routes of activities: activities/, trainings/, notices/, returns/."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("activities", views.ActivityViewSet, basename="activities-activity")
router.register("trainings", views.TrainingViewSet, basename="activities-training")
router.register("notices", views.NoticeViewSet, basename="activities-notice")
router.register("returns", views.ReturnViewSet, basename="activities-return")

urlpatterns = [*router.urls]
