from django.urls import path

from . import views

app_name = "staff_points"

urlpatterns = [
    path("points/me/", views.my_portrait, name="my-portrait"),
    path("points/employees/<int:pk>/", views.portrait, name="portrait"),
    path("points/employees/<int:pk>/record/", views.record, name="record-points"),
    path("points/employees/<int:pk>/exemplar/", views.confirm_exemplar, name="confirm-exemplar"),
    path("points/staff/", views.staff_points, name="staff-points"),
    path("points/blacklist/", views.blacklist, name="blacklist"),
    path("points/blacklist/<int:pk>/decide/", views.decide_blacklist, name="decide-blacklist"),
]
