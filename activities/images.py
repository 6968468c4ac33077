"""Activity photos: checked by content and re-encoded without EXIF/GPS (the working copy the portal
keeps); only the original's SHA-256 and size are recorded. Pure functions over bytes (Pillow)."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_EDGE = 4096
_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


class ImageRejected(ValueError):
    """Not an acceptable image; the message says why."""


@dataclass(frozen=True)
class Photo:
    working: bytes
    content_type: str
    extension: str
    original_sha256: str
    original_size: int


def strip_photo(data: bytes, filename: str = "") -> Photo:
    """A JPEG, PNG or WebP (≤ 10 MB) re-encoded without any metadata, EXIF orientation applied."""
    name = filename or _("图片")
    if not data:
        raise ImageRejected(_("{name} 是空文件。").format(name=name))
    if len(data) > MAX_BYTES:
        raise ImageRejected(_("{name} 超过10MB。").format(name=name))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            if fmt not in _FORMATS:
                raise ImageRejected(_("{name} 不是 JPEG、PNG 或 WebP 图片。").format(name=name))
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageRejected(_("{name} 像素过多。").format(name=name))
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except ImageRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(_("{name} 不是有效的 JPEG、PNG 或 WebP 图片。").format(name=name)) from None
    except (OSError, SyntaxError, ValueError):
        raise ImageRejected(_("{name} 已损坏或不是有效图片。").format(name=name)) from None
    image = ImageOps.exif_transpose(image)
    if max(image.size) > MAX_EDGE:
        image.thumbnail((MAX_EDGE, MAX_EDGE))
    content_type, extension = _FORMATS[fmt]
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        (image if image.mode in ("RGB", "RGBA", "L", "LA", "P") else image.convert("RGBA")).save(out, "PNG")
    else:
        (image if image.mode in ("RGB", "RGBA") else image.convert("RGBA")).save(out, "WEBP", quality=85)
    return Photo(working=out.getvalue(), content_type=content_type, extension=extension,
                 original_sha256=hashlib.sha256(data).hexdigest(), original_size=len(data))
