"""/api/v1/ routes of inspections."""

urlpatterns: list = []
