"""What a web process loads when it starts (config/wsgi.py), not in the first requests it serves.

Django builds several things lazily, once per process: the URL resolver's reverse tables, the
translation catalogues of each language, every template on its first use (the cached loader), and
the portal's OpenAPI document (core/api/schema.py). In a fresh process the first request paid
about 0.35 s for the first two alone, and each page's first view its templates' compilation (issue
16: the province crawl's slowest "p95" pairs were first requests; gunicorn restarts every worker
after GUNICORN_MAX_REQUESTS requests, so they recur all day). None of this touches the database
(safe before a fork, with gunicorn's --preload too); a failure is logged and the process starts
anyway, the thing then built on first use as before. Then the objects loaded are frozen out of the
garbage collector's full collections (`gc.freeze`, which also keeps them shared after a fork).
"""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path

from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils import translation

log = logging.getLogger(__name__)


def _urls() -> None:
    resolver = get_resolver()
    resolver.reverse_dict  # noqa: B018 (populates the resolver's tables)
    resolver.namespace_dict  # noqa: B018


def _catalogues() -> None:
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("清廉金融")


def template_names() -> list[str]:
    """Every template in the Django engines' folders (the project's and the apps')."""
    names: set[str] = set()
    for engine in engines.all():
        django_engine = getattr(engine, "engine", None)  # a Django templates engine (not Jinja2)
        for loader in django_engine.template_loaders if django_engine is not None else ():
            for source in getattr(loader, "loaders", [loader]):
                for folder in source.get_dirs():
                    root = Path(folder)
                    names.update(str(path.relative_to(root)) for path in root.rglob("*.html"))
    return sorted(names)


def _templates() -> int:
    from django.template.loader import get_template

    compiled = 0
    for name in template_names():
        try:
            get_template(name)
        except (TemplateDoesNotExist, TemplateSyntaxError):  # a fragment that never stands alone
            continue
        except Exception:  # any other: that template is compiled on first use, the others now
            log.warning("warm-up: template %s not compiled", name, exc_info=True)
            continue
        compiled += 1
    return compiled


def _schema() -> None:
    from django.test import RequestFactory

    from core.api.schema import CachedSchemaView

    # The document in the default language and format, as a plain GET /api/schema/ asks for it.
    request = RequestFactory().get("/api/schema/", HTTP_HOST=_a_host())
    CachedSchemaView.as_view()(request)


def _a_host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


def warm_up() -> None:
    start = time.perf_counter()
    done = []
    for name, step in (("urls", _urls), ("catalogues", _catalogues), ("templates", _templates),
                       ("schema", _schema)):
        try:
            step()
            done.append(name)
        except Exception:  # never stop a server from starting: the first request builds it instead
            log.exception("warm-up step %s failed", name)
    # Everything loaded so far lives as long as the process (the code, the catalogues, the templates,
    # the masking's dictionary of several hundred thousand words): out of the collector's sight, a
    # full collection no longer walks it in the middle of a request (150-250 ms pauses measured on
    # the second request of a page, none after). What the warm-up left unreachable is collected first.
    gc.collect()
    gc.freeze()
    log.info("warmed up (%s) in %.2f s", ", ".join(done), time.perf_counter() - start)
