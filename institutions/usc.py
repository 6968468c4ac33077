"""统一社会信用代码 (Unified Social Credit Code) rules of GB 32100-2015, as pure functions."""

from django.utils.translation import gettext as _

USC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USC_LENGTH = 18
USC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
_VALUE = {ch: i for i, ch in enumerate(USC_ALPHABET)}


def usc_check_character(first17: str) -> str:
    """The check character that completes the first 17 characters of a code."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, USC_WEIGHTS, strict=True))
    return USC_ALPHABET[(31 - total % 31) % 31]


def usc_problem(code: str) -> str | None:
    """Return which rule `code` breaks (in Chinese, for the person who typed it), or None if valid."""
    if len(code) != USC_LENGTH:
        return _("统一社会信用代码应为18位，当前为%(length)s位") % {"length": len(code)}
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        return _("统一社会信用代码含有不允许的字符：%(characters)s（不得使用 I、O、S、V、Z 及小写字母）") % {
            "characters": "、".join(bad)}
    expected = usc_check_character(code[:17])
    if code[17] != expected:
        return _("统一社会信用代码校验位错误：第18位应为 %(expected)s，实为 %(actual)s") % {
            "expected": expected, "actual": code[17]}
    return None


def make_usc_code(first17: str) -> str:
    """Complete 17 characters into a valid code (used by the demo data and tests)."""
    return first17 + usc_check_character(first17)
