from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import portal

from . import access


@login_required
def home(request):
    """Landing page: what the signed-in user can do, by role."""
    return render(request, "home.html", {
        "roles": access.user_roles(request.user),
        "institution": access.primary_institution(request.user),
        "is_finance_center": access.is_finance_center(request.user),
        # The districts the user serves (district-wide roles); the administrator serves them all.
        "districts": [] if access.is_superuser(request.user) or not access.sees_district_wide(request.user)
        else list(access.visible_districts(request.user)),
        # Each app registers its own sections (core/portal.py): this view knows none of them.
        "portal_links": portal.links_for(request.user),
    })


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
