"""Encryption of complainants' personal data at rest, and the one-way hashes of secret codes.

Personal data (name, phone, sealed original images) is encrypted with Fernet (AES-128-CBC +
HMAC-SHA256) under COMPLAINTS_PII_KEY; several comma-separated keys may be configured, the first
encrypts and all decrypt, so keys can be rotated. Receipt codes and one-time survey tokens are
never stored: only their SHA-256, which is safe because they carry at least 80 random bits.
"""

from __future__ import annotations

import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = [
    "CROCKFORD",
    "InvalidToken",
    "decrypt_bytes",
    "decrypt_text",
    "encrypt_bytes",
    "encrypt_text",
    "format_receipt_code",
    "hash_secret",
    "new_receipt_code",
    "new_token",
    "normalize_receipt_code",
]

# Crockford's base32: no I, L, O, U, so codes read aloud or typed from a screenshot survive.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_LENGTH = 20  # 20 × 5 = 100 random bits (the brief asks for at least 80)
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})

_fernet_cache: dict[tuple[str, ...], MultiFernet] = {}


def _fernet() -> MultiFernet:
    keys = tuple(settings.COMPLAINTS_PII_KEYS)
    fernet = _fernet_cache.get(keys)
    if fernet is None:
        fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        _fernet_cache[keys] = fernet
    return fernet


def encrypt_bytes(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def decrypt_bytes(token: bytes, *, ttl: int | None = None) -> bytes:
    """Raises InvalidToken when tampered with, under another key, or older than `ttl` seconds."""
    return _fernet().decrypt(token, ttl=ttl)


def encrypt_text(value: str) -> str:
    return encrypt_bytes(value.encode("utf-8")).decode("ascii") if value else ""


def decrypt_text(token: str) -> str:
    return decrypt_bytes(token.encode("ascii")).decode("utf-8") if token else ""


def new_receipt_code() -> str:
    """RECEIPT_LENGTH symbols of 5 random bits each (from `secrets`), in Crockford's alphabet."""
    value = int.from_bytes(secrets.token_bytes((RECEIPT_LENGTH * 5 + 7) // 8), "big")
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in range(RECEIPT_LENGTH))


def normalize_receipt_code(raw: str) -> str:
    """Upper-case, drop spaces and dashes, and map look-alike letters, as Crockford's base32 says."""
    return "".join(ch for ch in (raw or "").upper().translate(_CONFUSABLE) if ch.isalnum())


def format_receipt_code(code: str) -> str:
    """Groups of four for reading: ABCD-EFGH-JKMN-PQRS-TVWX."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def new_token(nbytes: int = 16) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_secret(value: str, purpose: str) -> str:
    return hashlib.sha256(f"clean-finance:{purpose}:{value}".encode()).hexdigest()
