"""Posters and their QR codes, made once and stored (issue 16: the province's 5,000 posters were
made on every request, 27 of 30 seconds in segno).

- A QR code is a pure function of its URL and scale: it is made once, stored as an SVG file in the
  posters' storage (shared by every web process: the `posters` STORAGES alias when configured, else
  the private folder COMPLAINTS_POSTERS_ROOT) and kept in the shared cache, read many at a time.
- A page of posters is a function of its institutions (code, name, public code, district), the
  public base URL and the language: stored once under a fingerprint of those, then served from the
  file. A renamed institution or a regenerated code changes the fingerprint, so the next request
  makes a new file; nothing is ever served stale.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import translation

from core.storage import PrivateStorage

from . import qr

VERSION = "1"  # bump when the poster template or the QR's look changes
QR_SCALE = 6
CACHE_SECONDS = 30 * 24 * 3600


class _PosterFolder(PrivateStorage):
    """COMPLAINTS_POSTERS_ROOT, else a `posters` folder beside the evidence (private, never served
    directly; tests move it with the evidence)."""

    @property
    def base_location(self):  # type: ignore[override]
        configured = getattr(settings, "COMPLAINTS_POSTERS_ROOT", None)
        return str(configured or Path(settings.COMPLAINTS_EVIDENCE_ROOT) / "posters")


_private = _PosterFolder("COMPLAINTS_POSTERS_ROOT", "posters")


def poster_storage():
    from django.core.files.storage import storages

    return storages["posters"] if "posters" in settings.STORAGES else _private


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def qr_svgs(urls, *, scale: int = QR_SCALE) -> dict[str, str]:
    """url -> SVG markup: from the cache (one round trip for all), else the stored file, else made and
    stored."""
    urls = list(dict.fromkeys(urls))
    keys = {url: f"complaints:qr:{VERSION}:{_digest(url, str(scale))}" for url in urls}
    found = cache.get_many(list(keys.values()))
    out = {url: found[key] for url, key in keys.items() if key in found}
    storage = poster_storage()
    fill = {}
    for url in urls:
        if url in out:
            continue
        name = f"qr/{keys[url].rsplit(':', 1)[1]}.svg"
        if storage.exists(name):
            with storage.open(name, "rb") as fh:
                svg = fh.read().decode("utf-8")
        else:
            svg = qr.qr_svg(url, scale=scale)
            storage.save(name, ContentFile(svg.encode("utf-8")))
        out[url] = fill[keys[url]] = svg
    if fill:
        cache.set_many(fill, CACHE_SECONDS)
    return out


def poster_context(institutions, request) -> dict:
    urls = {i.pk: qr.public_url(i.public_code, request) for i in institutions}
    svgs = qr_svgs(urls.values())
    return {"posters": [{"institution": i, "url": urls[i.pk], "svg": svgs[urls[i.pk]]} for i in institutions]}


def render_posters(institutions, request) -> str:
    return render_to_string("complaints/poster.html", poster_context(institutions, request), request=request)


def stored_posters(institutions, request):
    """An open file of the posters of `institutions` (in this order), made on the first request."""
    base = qr.public_url("X", request)
    identity = json.dumps([[i.code, i.name, i.public_code, i.district.name] for i in institutions],
                          ensure_ascii=False)
    name = f"pages/{_digest(VERSION, base, translation.get_language() or '', identity)}.html"
    storage = poster_storage()
    if not storage.exists(name):
        html = render_posters(institutions, request)
        storage.save(name, ContentFile(html.encode("utf-8")))
    return storage.open(name, "rb")
