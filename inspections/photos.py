"""On-site photos as evidence: the working copy is re-encoded without metadata, the original is
sealed (encrypted with INSPECTIONS_SEAL_KEY, SHA-256 kept) with the time and place its EXIF recorded."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

MAX_PHOTOS = 12
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 50_000_000
MAX_EDGE = 2560
_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


class PhotoRejected(ValueError):
    """Not an acceptable photo; the message says why."""


@dataclass(frozen=True)
class Photo:
    working: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sealed: bytes
    sha256: str
    size: int
    taken_at: str
    place: str


def _fernet() -> MultiFernet:
    keys = getattr(settings, "INSPECTIONS_SEAL_KEYS", None) or getattr(settings, "COMPLAINTS_PII_KEYS", [])
    return MultiFernet([Fernet(k) for k in keys])


def unseal(data: bytes) -> bytes:
    return _fernet().decrypt(data)


def _dms(value) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return d + m / 60 + s / 3600


def _exif_time_place(image) -> tuple[str, str]:
    try:
        exif = image.getexif()
    except Exception:  # a broken EXIF block is no reason to refuse the photo
        return "", ""
    taken = ""
    sub = exif.get_ifd(ExifTags.IFD.Exif) if exif else {}
    for tag in (36867, 306):  # DateTimeOriginal, DateTime
        value = sub.get(tag) or exif.get(tag)
        if value:
            taken = str(value)[:40]
            break
    place = ""
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo) if exif else {}
    if gps and 2 in gps and 4 in gps:
        lat, lon = _dms(gps[2]), _dms(gps[4])
        if lat is not None and lon is not None:
            lat = -lat if gps.get(1) == "S" else lat
            lon = -lon if gps.get(3) == "W" else lon
            place = f"{lat:.5f},{lon:.5f}"
    return taken, place


def process(data: bytes, filename: str = "") -> Photo:
    name = filename or _("照片")
    if not data:
        raise PhotoRejected(_("{name} 是空文件。").format(name=name))
    if len(data) > MAX_BYTES:
        raise PhotoRejected(_("{name} 超过8MB。").format(name=name))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            if fmt not in _FORMATS:
                raise PhotoRejected(_("{name} 不是 JPEG、PNG 或 WebP 图片。").format(name=name))
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoRejected(_("{name} 像素过多。").format(name=name))
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except PhotoRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(_("{name} 不是有效的 JPEG、PNG 或 WebP 图片。").format(name=name)) from None
    except (OSError, SyntaxError, ValueError):
        raise PhotoRejected(_("{name} 已损坏或不是有效图片。").format(name=name)) from None
    taken, place = _exif_time_place(image)
    image = ImageOps.exif_transpose(image)
    if max(image.size) > MAX_EDGE:
        image.thumbnail((MAX_EDGE, MAX_EDGE))
    content_type, extension = _FORMATS[fmt]
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        clean = image if image.mode in ("RGB", "RGBA", "L", "LA", "P") else image.convert("RGBA")
        clean.save(out, "PNG", optimize=True)
    else:
        clean = image if image.mode in ("RGB", "RGBA") else image.convert("RGBA")
        clean.save(out, "WEBP", quality=85)
    return Photo(working=out.getvalue(), content_type=content_type, extension=extension, width=image.width,
                 height=image.height, sealed=_fernet().encrypt(data), sha256=hashlib.sha256(data).hexdigest(),
                 size=len(data), taken_at=taken, place=place)
