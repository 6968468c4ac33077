"""Materials and attachments: the type is decided by the file's content (PDF, JPEG/PNG/WebP, or an
Office Open XML document), never by its name."""

from __future__ import annotations

import hashlib
import io
import zipfile

MAX_BYTES = 10 * 1024 * 1024
ALLOWED = "PDF、JPEG/PNG/WebP 图片或 Word/Excel/PowerPoint（.docx/.xlsx/.pptx）文件"
_OFFICE = {"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


class FileRejected(ValueError):
    pass


def sniff(data: bytes, name: str = "文件") -> str:
    """The MIME type of an allowed file, from its bytes; FileRejected otherwise."""
    if not data:
        raise FileRejected(f"{name} 为空")
    if len(data) > MAX_BYTES:
        raise FileRejected(f"{name} 超过 10 MB 上限")
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            raise FileRejected(f"{name} 已损坏，无法识别") from None
        if "[Content_Types].xml" in names:
            for prefix, mime in _OFFICE.items():
                if any(n.startswith(prefix) for n in names):
                    return mime
    raise FileRejected(f"{name}：不支持的文件类型，仅接受{ALLOWED}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
