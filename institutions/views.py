from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import portal

from . import access
from .models import Role


@login_required
def home(request):
    """The role home: who the user is, what waits for them (to-do counts linking to the filtered
    lists) and the sections they may use. Each app registers its own sections and counters
    (core/portal.py): this view knows none of them."""
    roles = access.user_roles(request.user)
    return render(request, "home.html", {
        "roles": roles,
        "role_labels": [Role(name).label for name in Role.values if name in roles],
        "institution": access.primary_institution(request.user),
        "is_finance_center": access.is_finance_center(request.user),
        # The districts the user serves (district-wide roles); the administrator serves them all.
        "districts": [] if access.is_superuser(request.user) or not access.sees_district_wide(request.user)
        else list(access.visible_districts(request.user)),
        "todos": portal.todos_for(request.user),
        "portal_links": portal.links_for(request.user),
    })


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
