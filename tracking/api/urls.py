"""/api/v1/ routes of tracking."""

urlpatterns: list = []
