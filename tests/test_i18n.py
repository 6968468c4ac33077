"""One language at a time (issue #12, item 2): the English catalogue translates every message, and
pages show labels, never raw codes (`green`, `submit_third_party`, `accept`)."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils import translation

from portal.templatetags import portal_labels
from tests import i18n_scan

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"


@pytest.fixture(autouse=True)
def _chinese():
    """Each test starts in the default language (a request in English leaves it active otherwise)."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def _unquote(line: str) -> str:
    return line[line.index('"') + 1:line.rindex('"')].encode("raw_unicode_escape").decode("unicode_escape")


def catalogue_entries(path: Path = CATALOGUE) -> list[dict]:
    """The PO file's entries: msgid, msgid_plural, msgstr(s), flags (a small reader, enough to check)."""
    entries, entry, field = [], None, None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid_plural"):
            field, entry["msgid_plural"] = ("msgid_plural", None), _unquote(line)
        elif line.startswith("msgid"):
            field, entry["msgid"] = ("msgid", None), _unquote(line)
        elif line.startswith("msgstr["):
            index = int(line[7:line.index("]")])
            field = ("msgstr", index)
            entry["msgstr"][index] = _unquote(line)
        elif line.startswith("msgstr"):
            field = ("msgstr", 0)
            entry["msgstr"][0] = _unquote(line)
        elif line.startswith('"') and field:
            name, index = field
            if name == "msgstr":
                entry["msgstr"][index] += _unquote(line)
            else:
                entry[name] += _unquote(line)
    return [e for e in entries if e["msgid"] and not e.get("obsolete")]


@pytest.mark.parametrize(("domain", "least"), [("django", 500), ("djangojs", 30)])
def test_every_message_has_an_english_translation(domain, least):
    entries = catalogue_entries(CATALOGUE.with_name(f"{domain}.po"))
    assert len(entries) > least
    missing = [e["msgid"] for e in entries if not all(e["msgstr"].values()) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not missing, f"{len(missing)} untranslated, e.g. {missing[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy (unchecked) translations, e.g. {fuzzy[:5]}"


@pytest.mark.parametrize(("language", "domain"), [("en", "django"), ("en", "djangojs"), ("zh_Hans", "django")])
def test_the_compiled_catalogue_is_current(language, domain):
    """The .mo the portal reads holds every translation of the .po (compilemessages was run)."""
    import gettext

    po = CATALOGUE.parents[2] / language / "LC_MESSAGES" / f"{domain}.po"
    with po.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [e["msgid"] for e in catalogue_entries(po)
             if "msgid_plural" not in e and compiled.gettext(e["msgid"]) != e["msgstr"].get(0)]
    assert not stale, f"{len(stale)} messages not compiled, e.g. {stale[:5]}"


@pytest.mark.django_db
def test_scripts_read_their_strings_in_the_pages_language(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    catalogue = client.get("/jsi18n/")
    assert catalogue.status_code == 200 and "Insufficient sample" in catalogue.content.decode()


def test_english_translations_contain_no_chinese():
    runs = re.compile(r"[\u4e00-\u9fff]+")
    # Chinese quoted from the source (a document's name, the masked name 黄某) may stay.
    leftover = [e["msgid"] for e in catalogue_entries()
                if any(run not in e["msgid"] for s in e["msgstr"].values() for run in runs.findall(s))]
    assert not leftover, f"{len(leftover)} English strings still hold Chinese, e.g. {leftover[:5]}"


# --- labels, never codes ---------------------------------------------------------------------------

def test_colours_by_their_labels():
    assert portal_labels.colour_label("green") == "绿"
    assert portal_labels.colour_label("nonsense") == "—"
    with translation.override("en"):
        assert portal_labels.colour_label("green") == "Green"


@pytest.mark.parametrize(("action", "source", "old", "new", "words"), [
    ("submit_third_party", "third_party", "in_review", "in_review", "提交了第三方测评"),
    ("return_inspection", "inspection", "in_review", "self_submitted", "退回了检查组考评"),
    ("save_self", "self", "not_started", "self_in_progress", "保存了机构自评草稿"),
])
def test_history_in_words(action, source, old, new, words):
    event = SimpleNamespace(action=action, source=source, from_state=old, to_state=new)
    text = portal_labels.assessment_event_words(event)
    assert text.startswith(words)
    assert action not in text and source not in text
    assert ("状态由" in text) == (old != new)


@pytest.mark.parametrize("action", ["accept", "verify", "conclude", "close", "forward_discipline"])
def test_complaint_log_by_label(action):
    label = portal_labels.complaint_action_label(action)
    assert label and not re.search(r"[a-z_]{3,}", label)


def test_one_percentage_format():
    assert portal_labels.percent(85) == "85%"
    assert portal_labels.percent("85.50") == "85.5%"
    assert portal_labels.percent(None) == "—"


def test_minimum_sample(settings):
    settings.CHARTS_MIN_SAMPLE = 5
    assert not portal_labels.sample_ok(2) and portal_labels.sample_ok(5)


# --- nothing bypasses gettext ----------------------------------------------------------------------

def test_no_chinese_template_text_outside_translation_tags():
    """Every template's own Chinese text is in {% translate %} / {% blocktranslate %}: the English
    pages show no leftover Chinese (`tests/i18n_scan.py` lists what is left)."""
    hits = i18n_scan.template_hits()
    assert not hits, f"{len(hits)} unmarked, e.g. " + "; ".join(f"{f}:{n} {t}" for f, n, t in hits[:8])


def test_no_chinese_punctuation_between_translated_parts():
    """«{% translate "期限" %}：» shows «Deadline：» in English: the punctuation belongs in the message."""
    hits = i18n_scan.punctuation_hits()
    assert not hits, f"{len(hits)} outside messages, e.g. " + "; ".join(f"{f}:{n} {t}" for f, n, t in hits[:8])


# Measure words and the ordinal prefix translated alone («第» {{ n }} «条») make «Page 3.3 items» in
# English: the number belongs inside one message («第 %(n)s 条» → «Clause %(n)s»).
FRAGMENT_WORDS = "第|条|页|件|个|家|次|人|名|份|位|秒|已填|尚有|项。|条。|用时"
FRAGMENTS = re.compile(r"""\{% *(?:translate|trans) +["'](?:""" + FRAGMENT_WORDS + r""")["'] *%\}""")


def test_no_sentence_translated_in_fragments():
    hits = [f"{path.relative_to(settings.BASE_DIR)}:{n}"
            for path in Path(settings.BASE_DIR).rglob("*.html")
            if not {".venv", "media", "private_media"}.intersection(path.relative_to(settings.BASE_DIR).parts)
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if FRAGMENTS.search(line)]
    assert not hits, f"fragments translated alone: {hits[:8]}"


def test_no_chinese_string_literal_outside_gettext():
    """Every Chinese literal in the code goes through gettext, unless it is data that stays Chinese in
    every language and says so (`# i18n-exempt: <why>`)."""
    hits = i18n_scan.python_hits()
    assert not hits, f"{len(hits)} unmarked, e.g. " + "; ".join(f"{f}:{n} {t}" for f, n, t in hits[:8])


def test_no_translation_frozen_at_import():
    """A non-lazy gettext in a module or class body runs once, in the language of whoever imported the
    module first (the filter of /tracking/ stayed Chinese on the English page): those are lazy."""
    hits = i18n_scan.eager_hits()
    assert not hits, f"{len(hits)} eager, e.g. " + "; ".join(f"{f}:{n} {t}" for f, n, t in hits[:8])


def test_every_exemption_names_its_reason():
    bare = [(path, n) for path in Path(settings.BASE_DIR).rglob("*.py")
            if not {".venv", "tests", "bench"}.intersection(path.relative_to(settings.BASE_DIR).parts)
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if i18n_scan.MARKER in line and not line.split(i18n_scan.MARKER, 1)[1].strip()]
    assert not bare, f"exemptions without a reason: {bare[:5]}"


def test_the_schema_reads_in_one_language():
    """drf-spectacular's own texts ("No response body", the token scheme) come in Chinese from the
    portal's zh_Hans catalogue, and stay English in the English schema."""
    from drf_spectacular.generators import SchemaGenerator

    with translation.override("zh-hans"):
        chinese = str(SchemaGenerator().get_schema(request=None, public=True))
    with translation.override("en"):
        english = str(SchemaGenerator().get_schema(request=None, public=True))
    assert "No response body" not in chinese and "Token-based" not in chinese
    assert "无响应内容" in chinese and "令牌认证" in chinese
    assert "No response body" in english and "Token-based authentication" in english
