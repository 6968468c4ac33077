"""What each role must never be shown, whatever the route: the leak scan of every 2xx answer.

A status code says nothing about a list or a figure that shows too much. So the world's objects carry
markers (institution codes and names, employees' and complainants' names, the complaints' text, and
an unmistakable total per result and stage: world.result_marker), and every successful answer outside
the public routes is searched for the markers its role may not see (DOMAIN.md: nothing of another
district; nothing of another institution for institution users; results only from their stage;
personal data and individual complaints only to those who handle them).
"""

from __future__ import annotations

import contextlib
import json

from .world import NOTICE, OPEN, PUBLISHED, result_marker

# An institution's code and name, and the usernames of its own people (of C: 椒江's finance center too).
INSTITUTIONS = {"A": ("MXA01", "矩阵甲银行"), "B": ("MXB01", "矩阵乙保险", "mx_filer_b", "mx_head_b"),
                "C": ("MXC01", "矩阵丙银行", "mx_filer_c", "mx_head_c", "mx_fc_jj")}
EMPLOYEES = {"A": ("甲矩员", "A列名员"), "B": ("乙矩员", "B列名员"), "C": ("丙矩员", "C列名员")}
COMPLAINANT = "举报人"  # every complainant's name starts so (named reports: their identity)
COMPLAINT_TEXT = "矩阵举报"  # every complaint's description starts so


def _results(targets: str, years) -> list[tuple[str, str]]:
    return [(result_marker(t, y), f"result of {t} in {y}") for t in targets for y in years]


def _institutions(targets: str) -> list[tuple[str, str]]:
    return [(m, f"institution {t}") for t in targets for m in INSTITUTIONS[t]]


def _employees(targets: str) -> list[tuple[str, str]]:
    return [(m, f"employee of {t}") for t in targets for m in EMPLOYEES[t]]


ALL_YEARS = (OPEN, NOTICE, PUBLISHED)
BEFORE_PUBLISHING = (OPEN, NOTICE)
PERSONAL = [(COMPLAINANT, "a complainant's name")]
CASES = [(COMPLAINT_TEXT, "an individual complaint")]

FORBIDDEN: dict[str, list[tuple[str, str]]] = {
    "fc": _institutions("C") + _employees("C") + _results("C", ALL_YEARS),
    "insp": _institutions("C") + _employees("ABC") + PERSONAL + CASES + _results("ABC", ALL_YEARS),
    "disc": (_institutions("C") + _employees("ABC") + PERSONAL + _results("AB", BEFORE_PUBLISHING)
             + _results("C", ALL_YEARS)),
    "api": (_institutions("C") + _employees("ABC") + PERSONAL + CASES + _results("AB", BEFORE_PUBLISHING)
            + _results("C", ALL_YEARS)),
    "city": _employees("ABC") + PERSONAL + CASES + _results("ABC", BEFORE_PUBLISHING),
    "filer": (_institutions("BC") + _employees("BC") + PERSONAL + CASES + _results("A", (OPEN,))
              + _results("BC", ALL_YEARS)),
    "head": (_institutions("BC") + _employees("BC") + PERSONAL + _results("A", (OPEN,))
             + _results("BC", ALL_YEARS)),
    "emp": (_institutions("BC") + _employees("BC") + [(EMPLOYEES["A"][1], "a colleague")] + PERSONAL + CASES
            + _results("ABC", ALL_YEARS)),
    "anon": _institutions("ABC") + _employees("ABC") + PERSONAL + CASES + _results("ABC", ALL_YEARS),
    "su": [],
}
FORBIDDEN["tp"] = FORBIDDEN["insp"]
assert PUBLISHED in ALL_YEARS


def body_text(response) -> str:
    data = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    text = data.decode("utf-8", errors="ignore")
    if "json" in response.get("Content-Type", ""):
        # JSON may escape non-ASCII (\\u77e9...): search the decoded text as well.
        with contextlib.suppress(ValueError):
            text += json.dumps(json.loads(text), ensure_ascii=False)
    return text


def leaks(role: str, response) -> list[str]:
    """Labels of what `response` shows that `role` may not see."""
    forbidden = FORBIDDEN[role]
    if not forbidden:
        return []
    text = body_text(response)
    return sorted({label for marker, label in forbidden if marker in text})
