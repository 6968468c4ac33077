from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("institutions", views.InstitutionViewSet, basename="institution")

urlpatterns = [
    path("", views.api_root, name="root"),
    path("me/", views.me, name="me"),
    *router.urls,
]
