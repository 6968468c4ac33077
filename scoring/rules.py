"""Clean-points (清廉积分) scoring rules, as pure functions.

The contract is /work/shared/spec/SCORING.md. Every module that shows or stores a score (REST API,
admin, portal, exports, the aggregation task) must go through these functions so that they agree
to the cent. Nothing here touches Django or the database: callers pass plain values in and get
``Decimal`` values out, and floats are refused at the edges because a binary float cannot hold
most one-decimal point values exactly.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from math import lcm
from types import MappingProxyType

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SOURCES: tuple[str, ...] = ("self", "inspection", "third_party")
KINDS: tuple[str, ...] = ("basic", "bonus", "red_line")
COLOURS: tuple[str, ...] = ("green", "blue", "yellow", "red")
STATUSES: tuple[str, ...] = ("final", "provisional")

# Used only in the messages users and officers read (Chinese msgids, translated when shown).
SOURCE_NAMES_ZH: Mapping[str, str] = MappingProxyType(
    {"self": gettext_lazy("机构自评"), "inspection": gettext_lazy("检查组考评"),
     "third_party": gettext_lazy("第三方测评")}
)
COLOUR_NAMES_ZH: Mapping[str, str] = MappingProxyType(
    {"green": gettext_lazy("绿"), "blue": gettext_lazy("蓝"), "yellow": gettext_lazy("黄"), "red": gettext_lazy("红")}
)

ZERO = Decimal(0)
_TENTH = Decimal("0.1")

# Sums and products of entry points and weights have few digits, so with 60 digits they are exact.
# Trapping Inexact turns an absurd input that would not fit into an error instead of a wrong cent.
_EXACT = Context(prec=60, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])
# A renormalising division is the one step that cannot be exact (e.g. /0.7). Truncating its quotient
# keeps it on the same side of every half-cent as the true quotient, so rounding the truncated value
# half up gives the correctly rounded cent; ROUND_HALF_EVEN here could turn …0049999… into …005
# and a later half-up rounding would then add a cent the true value does not earn.
_DIVIDE = Context(prec=60, rounding=ROUND_DOWN, traps=[InvalidOperation, DivisionByZero, Overflow])
_ROUND = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])


def _default_weights() -> Mapping[str, Decimal]:
    return MappingProxyType(
        {"self": Decimal("0.2"), "inspection": Decimal("0.5"), "third_party": Decimal("0.3")}
    )


def _default_linkage() -> Mapping[str, str]:
    return MappingProxyType(
        {"green": "priority", "blue": "eligible", "yellow": "restricted", "red": "excluded"}
    )


# --------------------------------------------------------------------------------------------
# Linkage (结果运用): per use and colour a code, a Chinese label and a points adjustment (加减分).

LINKAGE_USES: tuple[str, ...] = ("fiscal_tender", "party_building", "performance_appraisal")
LINKAGE_USE_NAMES_ZH: Mapping[str, str] = MappingProxyType({
    "fiscal_tender": gettext_lazy("财政性资金招投标及竞争性存放"),
    "party_building": gettext_lazy("党建星级评定"),
    "performance_appraisal": gettext_lazy("年度业绩考评"),
})
# The optional entry that replaces a use's red entry when the red comes from a red-line hit (一票否决)
# rather than from a low total.
RED_LINE_KEY = "red_line"
# The labels of the linkage table are data the finance center edits and results store (SCORING.md 9).
FISCAL_TENDER_LABELS_ZH: Mapping[str, str] = MappingProxyType(  # i18n-exempt: labels stored in the linkage table
    {"priority": "优先", "eligible": "正常", "restricted": "限制", "excluded": "禁入"}
)
LINKAGE_CODE_MAX = 20
LINKAGE_LABEL_MAX = 30
LINKAGE_POINTS_LIMIT = Decimal(100)


@dataclass(frozen=True)
class LinkageOutcome:
    """What one use does with one result: its code, the label people read, the points it adds (+)
    or deducts (−)."""

    code: str
    label: str
    points: Decimal = Decimal("0.00")

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "label": self.label, "points": format(self.points, "f")}


def default_linkage_uses() -> dict[str, dict[str, dict[str, str]]]:
    """The default table, as stored in a scheme (JSON: points are strings). Fiscal tenders keep
    today's codes (优先/正常/限制/禁入) with no points; the other two uses follow the seed's practice."""

    def entry(code: str, label: str, points: str = "0") -> dict[str, str]:
        return {"code": code, "label": label, "points": points}

    return {  # i18n-exempt: the default table is stored in each scheme as data the finance center edits
        "fiscal_tender": {
            "green": entry("priority", "优先"),
            "blue": entry("eligible", "正常"),
            "yellow": entry("restricted", "限制"),
            "red": entry("excluded", "禁入"),
        },
        "party_building": {
            "green": entry("recommended", "优先推荐评星", "2"),
            "blue": entry("eligible", "正常参评"),
            "yellow": entry("capped", "限制评星（不高于三星）", "-2"),
            "red": entry("excluded", "不得评星", "-5"),
            RED_LINE_KEY: entry("veto", "一票否决", "-5"),
        },
        "performance_appraisal": {
            "green": entry("bonus", "考评加分", "2"),
            "blue": entry("standard", "正常考评"),
            "yellow": entry("deduct", "考评扣分", "-2"),
            "red": entry("heavy_deduct", "考评重扣", "-5"),
            RED_LINE_KEY: entry("veto", "一票否决（不得评优）", "-10"),
        },
    }


def _linkage_points(raw: object) -> Decimal | None:
    if isinstance(raw, (bool, float)):
        return None
    if raw is None or raw == "":
        return Decimal("0.00")
    try:
        value = Decimal(str(raw).strip()) if isinstance(raw, (str, int, Decimal)) else None
    except InvalidOperation:
        return None
    if value is None or not value.is_finite() or _decimal_places(value) > 2 or abs(value) > LINKAGE_POINTS_LIMIT:
        return None
    return round_half_up(value)


def linkage_table_problems(raw: object) -> list[str]:
    """Problems of a stored linkage table (per use and colour: code, label, points), in Chinese."""
    if not isinstance(raw, Mapping):
        return [_("结果运用表格式不正确：应为按用途、颜色列出的表")]
    problems: list[str] = []
    for use in sorted(set(raw) - set(LINKAGE_USES)):
        problems.append(_("结果运用表含未知用途「%(use)s」") % {"use": _shown(use)})
    for use in LINKAGE_USES:
        name = LINKAGE_USE_NAMES_ZH[use]
        table = raw.get(use)
        if not isinstance(table, Mapping):
            problems.append(_("结果运用表缺少「%(use)s」") % {"use": name})
            continue
        for key in sorted(set(table) - set(COLOURS) - {RED_LINE_KEY}):
            problems.append(_("「%(use)s」含未知颜色「%(colour)s」") % {"use": name, "colour": _shown(key)})
        for key in (*COLOURS, RED_LINE_KEY):
            if key in COLOURS:
                where = _("「%(use)s」%(colour)s色") % {"use": name, "colour": COLOUR_NAMES_ZH[key]}
            else:
                where = _("「%(use)s」红线") % {"use": name}
            entry = table.get(key)
            if entry is None and key == RED_LINE_KEY:
                continue
            if not isinstance(entry, Mapping):
                problems.append(_("%(where)s缺少对应的处理") % {"where": where})
                continue
            code, label = entry.get("code"), entry.get("label")
            if not isinstance(code, str) or not code.strip() or len(code) > LINKAGE_CODE_MAX:
                problems.append(_("%(where)s的代码不能为空，且不超过 %(max)s 个字符")
                                % {"where": where, "max": LINKAGE_CODE_MAX})
            if not isinstance(label, str) or not label.strip() or len(label) > LINKAGE_LABEL_MAX:
                problems.append(_("%(where)s的名称不能为空，且不超过 %(max)s 个字符")
                                % {"where": where, "max": LINKAGE_LABEL_MAX})
            if _linkage_points(entry.get("points")) is None:
                problems.append(_("%(where)s的加减分须为 -100 到 100 之间、最多两位小数的数字") % {"where": where})
    return problems


def parse_linkage_table(
    raw: Mapping, fiscal_codes: Mapping[str, str] | None = None
) -> Mapping[str, Mapping[str, LinkageOutcome]]:
    """The stored table as outcomes. ``fiscal_codes`` (the scheme's older colour → code field) wins
    for the fiscal-tender codes, so schemes edited before the table existed keep their codes.
    Call ``linkage_table_problems`` first: a broken table raises ValueError here."""
    if linkage_table_problems(raw):
        raise ValueError("invalid linkage table")
    table: dict[str, Mapping[str, LinkageOutcome]] = {}
    for use in LINKAGE_USES:
        entries: dict[str, LinkageOutcome] = {}
        for key, entry in raw[use].items():
            if entry is None:
                continue
            points = _linkage_points(entry.get("points"))
            assert points is not None
            entries[key] = LinkageOutcome(code=entry["code"].strip(), label=entry["label"].strip(), points=points)
        if use == "fiscal_tender" and fiscal_codes:
            for colour, code in fiscal_codes.items():
                if colour in entries and code and code != entries[colour].code:
                    label = FISCAL_TENDER_LABELS_ZH.get(code, code)
                    entries[colour] = LinkageOutcome(code=code, label=label, points=entries[colour].points)
        table[use] = MappingProxyType(entries)
    return MappingProxyType(table)


def resolve_linkage(
    table: Mapping[str, Mapping[str, LinkageOutcome]], colour: str, red_line: bool
) -> dict[str, LinkageOutcome]:
    """Each use's outcome for one result. A red-line hit takes the use's ``red_line`` entry when the
    scheme has one (e.g. 一票否决 with its own deduction), else the red colour's."""
    if colour not in COLOURS:
        raise ValueError(f"unknown colour {colour!r}")
    outcome: dict[str, LinkageOutcome] = {}
    for use in LINKAGE_USES:
        entries = table[use]
        if red_line and RED_LINE_KEY in entries:
            outcome[use] = entries[RED_LINE_KEY]
        else:
            outcome[use] = entries[colour]
    return outcome


@dataclass(frozen=True)
class SchemeParams:
    """The numeric part of a year's scheme (评价方案); indicators travel separately."""

    weights: Mapping[str, Decimal] = field(default_factory=_default_weights)
    bonus_cap: Decimal = Decimal(10)
    complaint_deduction: Decimal = Decimal(1)
    complaint_deduction_cap: Decimal = Decimal(5)
    band_green: Decimal = Decimal(90)
    band_blue: Decimal = Decimal(80)
    band_yellow: Decimal = Decimal(70)
    linkage: Mapping[str, str] = field(default_factory=_default_linkage)
    # Per use and colour (and optionally red_line): {"code", "label", "points"}; see default_linkage_uses.
    linkage_uses: Mapping[str, object] = field(default_factory=lambda: default_linkage_uses())

    def __post_init__(self) -> None:
        # A frozen dataclass still holds the caller's dict; copying it stops a later mutation of that
        # dict from silently changing params that were already used to compute stored results.
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        object.__setattr__(self, "linkage", MappingProxyType(dict(self.linkage)))


def _fmt(value: Decimal) -> str:
    """Plain notation without trailing zeros, so messages read 40, not 4E+1 or 40.00."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1), context=_ROUND))
    return format(value.normalize(_ROUND), "f")


def _is_finite_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def validate_scheme_params(params: SchemeParams) -> list[str]:
    """Problems that stop a scheme from being activated, in Chinese, for the finance center."""
    problems: list[str] = []

    unknown = sorted(set(params.weights) - set(SOURCES))
    for source in unknown:
        problems.append(_("权重中含未知来源「%(source)s」，来源只能是机构自评、检查组考评、第三方测评")
                        % {"source": source})
    weight_values: list[Decimal] = []
    for source in SOURCES:
        name = SOURCE_NAMES_ZH[source]
        if source not in params.weights:
            problems.append(_("缺少「%(source)s」的权重") % {"source": name})
            continue
        weight = params.weights[source]
        if not _is_finite_decimal(weight):
            problems.append(_("「%(source)s」的权重必须是有限的十进制数（当前 %(value)s）")
                            % {"source": name, "value": repr(weight)})
            continue
        if weight < 0:
            problems.append(_("「%(source)s」的权重不能为负数（当前 %(value)s）")
                            % {"source": name, "value": _fmt(weight)})
        weight_values.append(weight)
    # Fractions, because a Decimal sum at the default 28 digits could round 1 + 1E-40 to 1.
    complete = not unknown and len(weight_values) == len(SOURCES)
    if complete and sum(map(Fraction, weight_values), Fraction(0)) != 1:
        total = ZERO
        for weight in weight_values:
            total = _ROUND.add(total, weight)
        problems.append(_("三个来源的权重之和必须恰好为 1（当前为 %(total)s）") % {"total": _fmt(total)})

    bands = ((COLOUR_NAMES_ZH["green"], params.band_green), (COLOUR_NAMES_ZH["blue"], params.band_blue),
             (COLOUR_NAMES_ZH["yellow"], params.band_yellow))
    if all(_is_finite_decimal(value) for _name, value in bands):
        if not params.band_green > params.band_blue > params.band_yellow:
            problems.append(
                _("四色分界必须依次递减：绿色线 > 蓝色线 > 黄色线（当前 %(green)s / %(blue)s / %(yellow)s）")
                % {"green": _fmt(params.band_green), "blue": _fmt(params.band_blue),
                   "yellow": _fmt(params.band_yellow)}
            )
    else:
        for name, value in bands:
            if not _is_finite_decimal(value):
                problems.append(_("%(colour)s色分界必须是有限的十进制数（当前 %(value)s）")
                                % {"colour": name, "value": repr(value)})

    amounts = (
        (_("加分上限"), params.bonus_cap),
        (_("每件投诉扣分"), params.complaint_deduction),
        (_("投诉扣分上限"), params.complaint_deduction_cap),
    )
    for name, value in amounts:
        if not _is_finite_decimal(value):
            problems.append(_("%(name)s必须是有限的十进制数（当前 %(value)s）") % {"name": name, "value": repr(value)})
        elif value < 0:
            problems.append(_("%(name)s不能为负数（当前 %(value)s）") % {"name": name, "value": _fmt(value)})

    for colour in COLOUR_NAMES_ZH:
        if not params.linkage.get(colour):
            problems.append(_("结果运用表缺少%(colour)s色对应的处理") % {"colour": COLOUR_NAMES_ZH[colour]})
    problems.extend(linkage_table_problems(params.linkage_uses))
    return problems


def linkage_table_of(params: SchemeParams) -> Mapping[str, Mapping[str, LinkageOutcome]]:
    """The params' table, parsed once per params (an aggregation asks for it per institution)."""
    cached = params.__dict__.get("_linkage_table")
    if cached is None:
        cached = parse_linkage_table(params.linkage_uses, params.linkage)
        object.__setattr__(params, "_linkage_table", cached)
    return cached


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    kind: str
    max_points: Decimal | None


class EntryValueError(ValueError):
    """A refused sheet entry; ``str(error)`` is the message to show to whoever typed it."""


_RED_LINE_TEXT = {"1": True, "0": False, "true": True, "false": False}


def _shown(raw: object) -> str:
    # Echo what the user typed, but never a novel-length string into an error banner.
    text = raw.strip() if isinstance(raw, str) else str(raw)
    return text if len(text) <= 20 else text[:20] + "…"


def _decimal_places(value: Decimal) -> int:
    """Decimal places that carry a value: 36.50 has one. Exact for any length, unlike normalize()."""
    if value.is_zero():
        return 0
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    significant = "".join(map(str, digits)).rstrip("0")
    exponent += len(digits) - len(significant)
    return max(-exponent, 0)


def parse_entry_value(indicator: IndicatorSpec, raw: object) -> Decimal | bool:
    """Validate one sheet entry as typed or imported; return the value to store.

    basic/bonus give a ``Decimal`` with exactly one decimal place (``Decimal("36.5")``,
    ``Decimal("40.0")``); red-line gives ``True`` (hit) or ``False``.
    """
    code = indicator.code
    if indicator.kind == "red_line":
        # bool before int: True is an int, and both spellings mean the same here.
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return raw == 1
        if isinstance(raw, str) and raw.strip().lower() in _RED_LINE_TEXT:
            return _RED_LINE_TEXT[raw.strip().lower()]
        raise EntryValueError(_("指标 %(code)s 为红线项，只能填 1（触碰）或 0（未触碰）") % {"code": code})

    if indicator.kind not in ("basic", "bonus"):
        raise ValueError(_("指标 %(code)s 的类型 %(kind)s 未知") % {"code": code, "kind": repr(indicator.kind)})
    if indicator.max_points is None:
        # Not the user's mistake: the scheme is broken, so this must not look like a form error.
        raise ValueError(_("指标 %(code)s 未设置满分，无法校验分值") % {"code": code})
    limit = indicator.max_points

    expected = _("指标 %(code)s 的分值须为 0 到 %(max)s 之间、最多一位小数的数字") % {"code": code, "max": _fmt(limit)}
    if isinstance(raw, bool):
        # Usually a slip from a red-line column; True would otherwise be read as 1 point.
        raise EntryValueError(_("%(expected)s，不能填是/否（收到 %(value)s）") % {"expected": expected, "value": raw})
    if isinstance(raw, float):
        # A float may already have lost the typed value (0.1 + 0.2 != 0.3), so we cannot trust it.
        raise EntryValueError(_("%(expected)s，请以文本或十进制数提供，不接受浮点数 %(value)s")
                              % {"expected": expected, "value": repr(raw)})
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, str):
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise EntryValueError(_("指标 %(code)s 的分值「%(value)s」不是有效数字")
                                  % {"code": code, "value": _shown(raw)}) from None
    else:
        raise EntryValueError(_("%(expected)s（收到 %(value)s）") % {"expected": expected, "value": _shown(raw)})

    if not value.is_finite():
        raise EntryValueError(_("指标 %(code)s 的分值「%(value)s」不是有效数字") % {"code": code, "value": _shown(raw)})
    if value < 0:
        raise EntryValueError(_("指标 %(code)s 的分值 %(value)s 低于下限 0") % {"code": code, "value": _shown(raw)})
    if value > limit:
        raise EntryValueError(_("指标 %(code)s 的分值 %(value)s 超出上限 %(max)s")
                              % {"code": code, "value": _shown(raw), "max": _fmt(limit)})
    if _decimal_places(value) > 1:
        raise EntryValueError(_("指标 %(code)s 的分值最多保留一位小数") % {"code": code})
    # copy_abs: "-0" passes every check above and must not be stored as -0.0.
    return value.copy_abs().quantize(_TENTH, context=_ROUND)


_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(4)}


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    """Round like the officers' spreadsheets do (0.005 -> 0.01), not Python's banker's rounding."""
    quantum = _QUANTA.get(places)
    return value.quantize(quantum if quantum is not None else Decimal(1).scaleb(-places), context=_ROUND)


def _check_sources(present: Collection[str]) -> tuple[str, ...]:
    unknown = set(present) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown score source(s): {sorted(unknown)}")
    return tuple(source for source in SOURCES if source in present)


def _whole_cents(numerator: int, denominator: int) -> tuple[int, bool]:
    """(|numerator / denominator| rounded half up, whether the quotient is negative), in exact integers;
    a zero numerator over a negative denominator counts as negative (as Decimal's division signs it)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
        negative = numerator <= 0
    else:
        negative = numerator < 0
    return (2 * abs(numerator) + denominator) // (2 * denominator), negative


def _cents_half_up(numerator: int, denominator: int) -> Decimal:
    """round_half_up(numerator / denominator) where the quotient is in cents: exact integer
    arithmetic, ties away from zero, two decimal places (a zero signed as Decimal's division signs it)."""
    cents, negative = _whole_cents(numerator, denominator)
    value = Decimal(cents).scaleb(-2, _EXACT)
    return value.copy_negate() if negative else value


def _exact(name: str, value: object) -> Fraction:
    # Fractions hold every finite Decimal exactly; a float (already inexact) or a bool is a caller bug.
    if isinstance(value, (bool, float)) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be Decimal, got {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise InvalidOperation(f"{name} must be finite, got {value!r}")
    return Fraction(value)


class BasicRule:
    """`basic_score` for one scheme's weights and one set of present sources, resolved once: the
    present sources checked, the weights renormalised over them (or the plain mean when they sum
    to 0) and held as integers over a common denominator. `basic_score` is this rule, and the
    aggregation applies it to hundreds of thousands of per-source sums (`tenths`) without any
    Decimal arithmetic on the way: the quotient is exact (integers), rounded half up to cents once.

    Σ_i Σ_s w_s·p_si / W = Σ_s w_s·S_s / W with S_s the sheet's basic sum; with w_s = f_s / L (f_s
    integers) that is Σ_s f_s·S_s / F, F = Σ_s f_s, in cents 100·Σ_s f_s·S_s / F.
    """

    __slots__ = ("_dense", "_divisor", "_factors", "_positions", "sources")

    def __init__(self, weights: Mapping[str, Decimal], present: Collection[str]) -> None:
        sources = _check_sources(present)
        if not sources:
            raise ValueError("basic_score needs at least one present source")
        exact = [_exact(f"weight of {source}", weights[source]) for source in sources]
        if sum(exact, Fraction(0)) == 0:
            # Only the sources that happen to be present have zero weight; the spec's fallback is the
            # plain mean, which keeps an institution from getting 0 just because of which sheets are in.
            exact = [Fraction(1)] * len(sources)
        common = lcm(*(weight.denominator for weight in exact))
        self.sources = sources
        self._factors = tuple(int(weight * common) for weight in exact)
        self._divisor = sum(self._factors)
        self._positions = tuple(SOURCES.index(source) for source in sources)
        # Each source's factor at its place in SOURCES, 0 for an absent one (`cents_each`).
        dense = [0] * len(SOURCES)
        for position, factor in zip(self._positions, self._factors, strict=True):
            dense[position] = factor
        self._dense = tuple(dense)

    def score(self, basic_sum_by_source: Mapping[str, Decimal]) -> Decimal:
        """The basic score from each present source's sum of basic points (a missing source: 0)."""
        numerator = ZERO
        for source, factor in zip(self.sources, self._factors, strict=True):
            numerator = _EXACT.add(numerator, _EXACT.multiply(factor, basic_sum_by_source.get(source, ZERO)))
        if not numerator.is_finite():
            raise InvalidOperation(f"basic sums must be finite, got {dict(basic_sum_by_source)!r}")
        over, under = numerator.as_integer_ratio()
        return _cents_half_up(100 * over, under * self._divisor)

    def cents(self, sums: Sequence[int]) -> int:
        """`tenths` as an integer number of cents (the per-item summary stores these): the same rounding."""
        numerator = 0
        for position, factor in zip(self._positions, self._factors, strict=True):
            numerator += factor * sums[position]
        cents, negative = _whole_cents(10 * numerator, self._divisor)
        return -cents if negative else cents

    def cents_each(self, rows: Iterable[Sequence[int]]) -> list[int]:
        """`cents` of each of many per-source sums (an institution's items, for the per-item summary), in
        order: the same integers, with the loop over sources unrolled (an aggregation of the nation calls
        this for 1.9 million items)."""
        if self._divisor <= 0 or len(self._dense) != 3:
            return [self.cents(row) for row in rows]
        a, b, c = self._dense
        twice = 2 * self._divisor
        out = []
        for x, y, z in rows:
            doubled = 20 * (a * x + b * y + c * z)  # twice the cents' numerator, 10·Σ f_s·t_s
            out.append((doubled + self._divisor) // twice if doubled >= 0 else -((self._divisor - doubled) // twice))
        return out

    def tenths(self, sums: Sequence[int]) -> Decimal:
        """The same from integer sums in tenths of a point, one per source in SOURCES order
        (absent sources' values are ignored): 100·Σ f_s·(t_s/10) / F = 10·Σ f_s·t_s / F cents."""
        numerator = 0
        for position, factor in zip(self._positions, self._factors, strict=True):
            numerator += factor * sums[position]
        return _cents_half_up(10 * numerator, self._divisor)


def basic_rule(params: SchemeParams, present: Collection[str]) -> BasicRule:
    """The params' BasicRule for these present sources, built once per params and set of sources."""
    rule = result_rule(params, present)
    if rule is None:
        raise ValueError("basic_score needs at least one present source")
    return rule.basic


def basic_score(
    params: SchemeParams, present: Collection[str], basic_sum_by_source: Mapping[str, Decimal]
) -> Decimal:
    """Σ_i c_i, rounded half up to cents.

    Every basic indicator is divided by the same W = Σ w_s over present sources, so
    Σ_i Σ_s w_s·p_si / W = Σ_s w_s·S_s / W with S_s the sheet's basic sum. One division instead of
    one per indicator means no intermediate rounding, and lets SQL hand over per-source sums only.
    The arithmetic is exact (`BasicRule`), rounded once.
    """
    return basic_rule(params, present).score(basic_sum_by_source)


def bonus_score(params: SchemeParams, inspection_present: bool, inspection_bonus_sum: Decimal) -> Decimal:
    """Only inspection-confirmed bonus counts; the institution's own claim never does."""
    if not inspection_present:
        return round_half_up(ZERO)
    return round_half_up(min(inspection_bonus_sum, params.bonus_cap))


def complaint_deduction(params: SchemeParams, substantiated: int, partially: int) -> Decimal:
    """Deduction for the year's substantiated (属实) and partially substantiated complaints."""
    for name, count in (("substantiated", substantiated), ("partially", partially)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"{name} must be a non-negative int, got {count!r}")
    # Halving the count (not the rounded amount) keeps an odd number of partial complaints exact.
    count = _EXACT.add(Decimal(substantiated), _EXACT.divide(Decimal(partially), Decimal(2)))
    amount = _EXACT.multiply(count, params.complaint_deduction)
    return round_half_up(min(amount, params.complaint_deduction_cap))


def colour_for(total: Decimal, red_line: bool, params: SchemeParams) -> str:
    if red_line:
        # One-vote veto (一票否决): no total can buy back a red-line hit.
        return "red"
    if total >= params.band_green:
        return "green"
    if total >= params.band_blue:
        return "blue"
    if total >= params.band_yellow:
        return "yellow"
    return "red"


@dataclass(frozen=True)
class ResultValues:
    basic: Decimal
    bonus: Decimal
    deduction: Decimal
    total: Decimal
    red_line: bool
    colour: str
    status: str
    sources: tuple[str, ...]
    linkage: str
    # use -> outcome (code, label, points); ``linkage`` is the fiscal-tender code, kept for callers.
    uses: Mapping[str, LinkageOutcome] = field(default_factory=dict)


class ResultRule:
    """`compute_from_sums` for one scheme and one set of present sources, resolved once per params
    (`result_rule`): the basic rule, the status, whether the bonus counts, and per colour and
    red-line flag the linkage outcomes; complaint deductions are remembered per pair of counts.
    `compute_from_sums` is this rule applied to a basic score, so the two cannot drift."""

    __slots__ = ("_deductions", "_uses", "basic", "has_inspection", "params", "sources", "status")

    def __init__(self, params: SchemeParams, sources: tuple[str, ...]) -> None:
        self.params = params
        self.sources = sources
        self.basic = BasicRule(params.weights, sources)
        self.has_inspection = "inspection" in sources
        self.status = "final" if len(sources) == len(SOURCES) else "provisional"
        self._uses: dict[tuple[str, bool], Mapping[str, LinkageOutcome]] = {}
        self._deductions: dict[tuple[int, int], Decimal] = {}

    def values(self, basic: Decimal, inspection_bonus_sum: Decimal, red_line_hit: bool,
               substantiated: int = 0, partially: int = 0) -> ResultValues:
        """The result from its basic score (`self.basic`) and the other sums."""
        params = self.params
        bonus = bonus_score(params, self.has_inspection, inspection_bonus_sum)
        if type(substantiated) is int and type(partially) is int:  # a bool would share 1's memo entry
            deduction = self._deductions.get((substantiated, partially))
            if deduction is None:
                deduction = self._deductions[substantiated, partially] = complaint_deduction(
                    params, substantiated, partially)
        else:
            deduction = complaint_deduction(params, substantiated, partially)
        total = round_half_up(max(basic + bonus - deduction, ZERO))
        red_line = bool(red_line_hit)
        colour = colour_for(total, red_line, params)
        uses = self._uses.get((colour, red_line))
        if uses is None:
            uses = self._uses[colour, red_line] = MappingProxyType(
                resolve_linkage(linkage_table_of(params), colour, red_line))
        return ResultValues(
            basic=basic,
            bonus=bonus,
            deduction=deduction,
            total=total,
            red_line=red_line,
            colour=colour,
            status=self.status,
            sources=self.sources,
            linkage=uses["fiscal_tender"].code,
            uses=uses,
        )


def result_rule(params: SchemeParams, present: Collection[str]) -> ResultRule | None:
    """The params' ResultRule for these present sources (None when there are none), built once per
    params and set of sources: an aggregation asks for it per institution."""
    rules = params.__dict__.get("_result_rules")
    if rules is None:
        rules = {}
        object.__setattr__(params, "_result_rules", rules)
    key = present if isinstance(present, tuple) else frozenset(present)
    try:
        return rules[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable collection: not remembered
        key = None
    sources = _check_sources(present)
    rule = ResultRule(params, sources) if sources else None
    if key is not None:
        rules[key] = rule
    return rule


def compute_from_sums(
    params: SchemeParams,
    present: Collection[str],
    basic_sum_by_source: Mapping[str, Decimal],
    inspection_bonus_sum: Decimal,
    red_line_hit: bool,
    substantiated: int = 0,
    partially: int = 0,
) -> ResultValues | None:
    """One institution's result from per-source sums; None when no sheet has been submitted."""
    rule = result_rule(params, present)
    if rule is None:
        return None
    basic = rule.basic.score(basic_sum_by_source)
    return rule.values(basic, inspection_bonus_sum, red_line_hit, substantiated, partially)


def _points(code: str, value: object) -> Decimal:
    # Stored points are already validated; anything else here is a caller bug, not user input.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"points for indicator {code} must be Decimal, got {value!r}")
    return Decimal(value)


def compute_result(
    params: SchemeParams,
    indicators: Sequence[IndicatorSpec],
    sheets: Mapping[str, Mapping[str, Decimal | bool]],
    substantiated: int = 0,
    partially: int = 0,
) -> ResultValues | None:
    """One institution's result from its SUBMITTED sheets only (source -> {indicator code -> value})."""
    by_code: dict[str, IndicatorSpec] = {}
    for indicator in indicators:
        if indicator.code in by_code:
            raise ValueError(f"duplicate indicator code {indicator.code!r}")
        by_code[indicator.code] = indicator

    basic_sums: dict[str, Decimal] = {}
    bonus_sums: dict[str, Decimal] = {}
    red_line_hit = False
    for source, entries in sheets.items():
        basic_sum = ZERO
        bonus_sum = ZERO
        for code, value in entries.items():
            indicator = by_code.get(code)
            # Entries for codes outside this scheme (e.g. a row left over from a renumbered norm)
            # must not leak into the score.
            if indicator is None:
                continue
            if indicator.kind == "basic":
                basic_sum = _EXACT.add(basic_sum, _points(code, value))
            elif indicator.kind == "bonus":
                bonus_sum = _EXACT.add(bonus_sum, _points(code, value))
            elif indicator.kind == "red_line":
                if not isinstance(value, bool):
                    raise TypeError(f"red-line value for indicator {code} must be bool, got {value!r}")
                red_line_hit = red_line_hit or value
        basic_sums[source] = basic_sum
        bonus_sums[source] = bonus_sum

    return compute_from_sums(
        params,
        present=tuple(sheets),
        basic_sum_by_source=basic_sums,
        inspection_bonus_sum=bonus_sums.get("inspection", ZERO),
        red_line_hit=red_line_hit,
        substantiated=substantiated,
        partially=partially,
    )


def competition_ranks(keys: Sequence[tuple[bool, Decimal]]) -> list[int]:
    """Standard competition ranks (1, 2, 2, 4) for (red_line, total) keys, in input order."""
    order = sorted(range(len(keys)), key=lambda i: (keys[i][0], -keys[i][1]))
    ranks = [0] * len(keys)
    previous: tuple[bool, Decimal] | None = None
    rank = 0
    for position, index in enumerate(order):
        key = (bool(keys[index][0]), keys[index][1])
        if key != previous:
            rank = position + 1
            previous = key
        ranks[index] = rank
    return ranks


EMPLOYEE_START = Decimal(100)
EMPLOYEE_COMMENDATION_CAP = Decimal(10)


def employee_total(commendations: Decimal, deductions: Decimal) -> Decimal:
    """An employee's yearly clean points (员工清廉积分): 100 + capped commendations − deductions."""
    if commendations < 0 or deductions < 0:
        # Signs are carried by the record type; a negative amount would double-count one way or the other.
        raise ValueError("commendations and deductions are amounts and cannot be negative")
    total = EMPLOYEE_START + min(commendations, EMPLOYEE_COMMENDATION_CAP) - deductions
    return round_half_up(max(total, ZERO))


def employee_colour(total: Decimal, red_line: bool, params: SchemeParams | None = None) -> str:
    """Same bands as institutions (the defaults unless a scheme is given); red-line forces red."""
    return colour_for(total, red_line, params if params is not None else SchemeParams())


# --------------------------------------------------------------------------------------------
# The city's clean-finance index (清廉金融指数) with the city's own weights, over district aggregates
# (local published results or packages imported from the districts' installations). The components
# are those of docs/city-index.md; only the weights are the city's.

CITY_INDEX_COMPONENTS: tuple[str, ...] = ("score", "colour", "red_line", "complaints")
CITY_INDEX_COMPONENT_NAMES_ZH: Mapping[str, str] = MappingProxyType(
    {"score": gettext_lazy("积分"), "colour": gettext_lazy("四色分布"), "red_line": gettext_lazy("红线"),
     "complaints": gettext_lazy("属实投诉")}
)
DEFAULT_CITY_WEIGHTS: Mapping[str, Decimal] = MappingProxyType(
    {"score": Decimal("0.5"), "colour": Decimal("0.2"), "red_line": Decimal("0.2"), "complaints": Decimal("0.1")}
)
_COLOUR_VALUES = MappingProxyType(
    {"green": Decimal(1), "blue": Decimal("0.75"), "yellow": Decimal("0.4"), "red": ZERO}
)
_HUNDRED = Decimal(100)


def city_weight_problems(weights: Mapping[str, Decimal]) -> list[str]:
    """Problems of a city's index weights, in Chinese: four finite non-negative decimals summing to 1."""
    problems = []
    for key in CITY_INDEX_COMPONENTS:
        value = weights.get(key)
        name = CITY_INDEX_COMPONENT_NAMES_ZH[key]
        if not _is_finite_decimal(value):
            problems.append(_("「%(name)s」权重必须是数字") % {"name": name})
        elif value < 0 or value > 1:
            problems.append(_("「%(name)s」权重须在 0 到 1 之间（当前 %(value)s）")
                            % {"name": name, "value": _fmt(value)})
        elif _decimal_places(value) > 3:
            problems.append(_("「%(name)s」权重最多三位小数") % {"name": name})
    if not problems and sum((weights[k] for k in CITY_INDEX_COMPONENTS), ZERO) != 1:
        total = sum((weights[k] for k in CITY_INDEX_COMPONENTS), ZERO)
        problems.append(_("四项权重之和必须恰好为 1（当前为 %(total)s）") % {"total": _fmt(total)})
    return problems


def city_index_formula(weights: Mapping[str, Decimal]) -> str:
    """The formula as the city page prints it, e.g. 指数 = 0.5×积分 + 0.2×四色分布 + 0.2×红线 + 0.1×属实投诉."""
    parts = [f"{_fmt(weights[k])}×{CITY_INDEX_COMPONENT_NAMES_ZH[k]}" for k in CITY_INDEX_COMPONENTS]
    return _("指数 = %(terms)s") % {"terms": " + ".join(parts)}


def city_index(institutions: int, total_sum: Decimal, colours: Mapping[str, int], red_lines: int,
               substantiated: int, partially: int,
               weights: Mapping[str, Decimal] = DEFAULT_CITY_WEIGHTS) -> dict[str, Decimal] | None:
    """One district-year's components and index (two decimals, half up); None without results.

    score = min(mean total, 100); colour = 100 × Σ value·count / n (green 1, blue 0.75, yellow 0.4,
    red 0); red_line = 100 × (1 − red-line institutions / n); complaints = 100 × max(0, 1 −
    (substantiated + ½ partially) / n); index = Σ weight × component."""
    n = institutions
    if n <= 0:
        return None
    mean_total = _DIVIDE.divide(Decimal(total_sum), Decimal(n))
    parts = {
        "score": min(mean_total, _HUNDRED),
        "colour": _DIVIDE.divide(_HUNDRED * sum((_COLOUR_VALUES[c] * colours.get(c, 0) for c in COLOURS), ZERO),
                                 Decimal(n)),
        "red_line": _HUNDRED * (1 - _DIVIDE.divide(Decimal(red_lines), Decimal(n))),
        "complaints": _HUNDRED * max(ZERO, 1 - _DIVIDE.divide(Decimal(substantiated) + Decimal(partially) / 2,
                                                                Decimal(n))),
    }
    index = sum((weights[k] * parts[k] for k in CITY_INDEX_COMPONENTS), ZERO)
    return {"index": round_half_up(index), "mean_total": round_half_up(mean_total),
            **{k: round_half_up(v) for k, v in parts.items()}}
