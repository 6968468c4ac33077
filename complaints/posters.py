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
from dataclasses import dataclass
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


def _qr_keys(urls, scale: int) -> dict[str, str]:
    return {url: f"complaints:qr:{VERSION}:{_digest(url, str(scale))}" for url in urls}


def _qr_name(key: str) -> str:
    return f"qr/{key.rsplit(':', 1)[1]}.svg"


def missing_codes(urls, *, more_than: int, scale: int = QR_SCALE) -> bool:
    """Whether more than `more_than` of the QR codes of `urls` were never made (neither cached nor
    stored). Stops looking once it knows: at most `more_than` + 1 stored files are asked about."""
    keys = _qr_keys(list(dict.fromkeys(urls)), scale)
    found = cache.get_many(list(keys.values()))
    storage = poster_storage()
    missing = 0
    for key in keys.values():
        if key not in found and not storage.exists(_qr_name(key)):
            missing += 1
            if missing > more_than:
                return True
    return False


def qr_svgs(urls, *, scale: int = QR_SCALE, progress=None) -> dict[str, str]:
    """url -> SVG markup: from the cache (one round trip for all), else the stored file, else made and
    stored. `progress(percent)` is told along the way when given."""
    urls = list(dict.fromkeys(urls))
    keys = _qr_keys(urls, scale)
    found = cache.get_many(list(keys.values()))
    out = {url: found[key] for url, key in keys.items() if key in found}
    storage = poster_storage()
    fill = {}
    for done, url in enumerate(urls):
        if url in out:
            continue
        if progress is not None and done % 200 == 0:
            progress(90 * done // len(urls))
        name = _qr_name(keys[url])
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


POSTERS_KIND = "complaints.posters"


def poster_context(institutions, base: str, progress=None) -> dict:
    urls = dict(zip((i.pk for i in institutions), qr.public_urls_on(base, [i.public_code for i in institutions]),
                    strict=True))
    svgs = qr_svgs(urls.values(), progress=progress)
    return {"posters": [{"institution": i, "url": urls[i.pk], "svg": svgs[urls[i.pk]]} for i in institutions]}


def render_posters(institutions, base: str, progress=None) -> str:
    """The posters of `institutions`, their QR codes pointing at the public form on `base`
    (`qr.public_base`)."""
    return render_to_string("complaints/poster.html", poster_context(institutions, base, progress))


def _page_name(institutions, base: str) -> str:
    identity = json.dumps([[i.code, i.name, i.public_code, i.district.name] for i in institutions],
                          ensure_ascii=False)
    return f"pages/{_digest(VERSION, base, translation.get_language() or '', identity)}.html"


def download(institutions, base: str):
    """An open file of the posters of `institutions` (in this order) to send, made now if need be; None
    when more than COMPLAINTS_POSTERS_INLINE of their QR codes were never made: each new one takes
    about 5 ms (a province's 5,000 took 25 s in the request), so such a set is made in the background
    (`posters_export`; the page offers it). A set of codes made already is assembled here at once."""
    name = _page_name(institutions, base)
    if not poster_storage().exists(name) and missing_codes(
            qr.public_urls_on(base, [i.public_code for i in institutions]),
            more_than=settings.COMPLAINTS_POSTERS_INLINE):
        return None
    return _open_or_make(institutions, base, name)


def stored_posters(institutions, base: str, progress=None):
    """An open file of the posters of `institutions` (in this order), made and stored if it was not."""
    return _open_or_make(institutions, base, _page_name(institutions, base), progress)


def _open_or_make(institutions, base: str, name: str, progress=None):
    storage = poster_storage()
    if not storage.exists(name):
        html = render_posters(institutions, base, progress)
        storage.save(name, ContentFile(html.encode("utf-8")))
    return storage.open(name, "rb")


@dataclass(frozen=True)
class PosterDistrict:
    name: str


@dataclass(frozen=True)
class PosterInstitution:
    """What a poster and its page's name read of an institution (as an Institution has it): a
    province's 5,000 are read per request as rows, not models."""

    pk: int
    code: str
    name: str
    public_code: str
    district: PosterDistrict


def institutions_for(user, district_code: str = "") -> list[PosterInstitution]:
    """The active institutions whose posters `user` (finance-center staff) may print, in code order;
    of one of their districts (by code) when given. PermissionError for anyone else, NotFound for a
    district they do not serve."""
    from institutions import access
    from institutions.models import Institution, Role

    if not access.is_finance_center(user):
        raise PermissionError("posters are the finance center's")
    institutions = access.scope_queryset(Institution.objects.filter(is_active=True), user, "",
                                         roles=(Role.FINANCE_CENTER,))
    if district_code:
        district = access.resolve_district(user, district_code, roles=(Role.FINANCE_CENTER,))
        institutions = institutions.filter(district=district)
    districts: dict[str, PosterDistrict] = {}
    return [PosterInstitution(pk, code, name, public_code, districts.setdefault(district, PosterDistrict(district)))
            for pk, code, name, public_code, district in institutions.order_by("code").values_list(
                "pk", "code", "name", "public_code", "district__name")]


def posters_export(user, query, progress=None):
    """The export kind (core.export_jobs) of a page of posters too big to make in the request: the
    same file the page streams, made and stored for the next download too. `query`: the page's query
    string (`district`) and the public `base` the page saw."""
    from core.export_jobs import ExportFile

    institutions = institutions_for(user, query.get("district", ""))
    base = settings.COMPLAINTS_PUBLIC_BASE_URL or _checked_base(query.get("base", ""))
    with stored_posters(institutions, base, progress) as fh:
        content = fh.read()
    return ExportFile(content, "posters.html", "text/html; charset=utf-8")


def _checked_base(base: str) -> str:
    """The site the page was asked on, as the view recorded it, if it is one this installation serves
    (http or https and a host ALLOWED_HOSTS admits), else "" (relative URLs): a job's parameters never
    put another site's address on a poster."""
    from urllib.parse import urlsplit

    from django.http.request import validate_host

    parts = urlsplit(base)
    host = (parts.hostname or "").lower()
    if parts.scheme in ("http", "https") and host and not parts.path.strip("/") and not parts.query \
            and validate_host(host, settings.ALLOWED_HOSTS):
        return base.rstrip("/")
    return ""
