from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/first-password/", views.first_password, name="first_password"),
]
