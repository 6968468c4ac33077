"""/api/v1/ routes of activities."""

urlpatterns: list = []
