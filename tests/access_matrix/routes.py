"""Every route of the installation: the URLconf walked recursively (pages, /api/v1/, admin) and the
admin registry's five views per model, so that the matrix notices a route nobody wrote an entry for."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

# Routes the matrix does not ask about, each for a stated reason. Everything else must have an entry
# in the table (test_every_route_has_an_entry), and every entry must still be a route.
SKIPPED = {
    # Django's own authentication and language switching: no object, no tenant data.
    "login": "Django's LoginView",
    "logout": "Django's LogoutView",
    "set_language": "django.conf.urls.i18n",
    # The admin site's own pages: index, login/logout, password change, its JS catalogue, the
    # per-app index (lists the models the user may use, no rows) and the "view on site" redirect.
    "admin:index": "admin index (model list only)",
    "admin:login": "admin login",
    "admin:logout": "admin logout",
    "admin:password_change": "admin password change (own account)",
    "admin:password_change_done": "admin password change (own account)",
    "admin:jsi18n": "admin JavaScript catalogue",
    "admin:app_list": "admin per-app index (model list only)",
    "admin:view_on_site": "contenttypes shortcut redirect",
    "admin/(?P<url>.*)$": "admin catch-all (final slash / login redirect)",
    # The schema and its two viewers: the API's description, no data.
    "schema": "OpenAPI schema", "api-docs": "Swagger UI", "api-redoc": "ReDoc",
    # Served only with DEBUG on (django.conf.urls.static).
    "^media/(?P<path>.*)$": "MEDIA_ROOT under DEBUG only",
}
# The admin's unnamed "<app>/<model>/<object_id>/" routes only redirect to the named change view.
UNNAMED_ADMIN_REDIRECT = "<path:object_id>/"

ADMIN_VIEWS = ("changelist", "add", "change", "delete", "history")


def walk(resolver=None, prefix: str = "", namespaces: tuple[str, ...] = ()):
    """Yield (key, full pattern) for every URL pattern; key is "namespace:name", or the full pattern
    for an unnamed one."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            names = namespaces + ((entry.namespace,) if entry.namespace else ())
            yield from walk(entry, prefix + str(entry.pattern), names)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            key = ":".join((*namespaces, entry.name)) if entry.name else pattern
            yield key, pattern


def all_routes() -> dict[str, str]:
    """key -> pattern of every route the matrix must cover (skipped ones and admin redirects left out)."""
    out: dict[str, str] = {}
    for key, pattern in walk():
        if key in SKIPPED or (key.startswith("admin/") and key.endswith(UNNAMED_ADMIN_REDIRECT)):
            continue
        out[key] = pattern
    return out


def admin_route_names() -> dict[str, tuple[str, str]]:
    """For every model of the admin registry, its changelist/add/change/delete/history URL names:
    name -> (model label, view)."""
    out = {}
    for model in admin.site._registry:
        opts = model._meta
        for view in ADMIN_VIEWS:
            out[f"admin:{opts.app_label}_{opts.model_name}_{view}"] = (opts.label, view)
    return out
