"""/api/v1/ routes of risk."""

urlpatterns: list = []
