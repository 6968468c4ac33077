"""The dashboards' business rules as pure functions: shares, rates, year-on-year changes, bins,
and the city's clean-finance index (清廉金融指数, see docs/city-index.md).

No ORM and no request here: selectors.py hands plain numbers in, and everything that a dashboard,
the API, the annual report or the city roll-up shows is computed by these functions, so that they
agree to the last decimal. All arithmetic is ``decimal.Decimal`` rounded half up, the way the
officers' spreadsheets round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy

from scoring import rules as scoring_rules

COLOURS: tuple[str, ...] = scoring_rules.COLOURS  # green, blue, yellow, red
# The colour names in the reader's language (the msgids are scoring's Colour labels): str() them where used.
COLOUR_LABELS: Mapping[str, str] = {c: gettext_lazy(name) for c, name in scoring_rules.COLOUR_NAMES_ZH.items()}
ZERO = Decimal(0)
HUNDRED = Decimal(100)
_TENTH = Decimal("0.1")
_CENT = Decimal("0.01")


def _q(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part`` of ``whole`` in percent with one decimal (half up); None when ``whole`` is 0."""
    if not whole:
        return None
    return _q(HUNDRED * Decimal(part) / Decimal(whole), _TENTH)


def mean(values: Iterable[Decimal | int]) -> Decimal | None:
    """Arithmetic mean with two decimals (half up); None for no values."""
    items = [Decimal(v) for v in values]
    if not items:
        return None
    return _q(sum(items, ZERO) / len(items), _CENT)


def mean_of_sum(total: Decimal | int | None, count: int, places: int = 2) -> Decimal | None:
    """A mean from a sum and a count (as SQL hands them over), rounded half up."""
    if not count or total is None:
        return None
    return _q(Decimal(total) / count, Decimal(1).scaleb(-places))


def points_change(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """Change of a rate in percentage points (百分点), one decimal: 92.3 vs 91.1 -> +1.2."""
    if current is None or previous is None:
        return None
    return _q(Decimal(current) - Decimal(previous), _TENTH)


def relative_change(current: int | Decimal, previous: int | Decimal) -> Decimal | None:
    """Year-on-year change in percent, one decimal: 7 cases vs 10 -> -30.0; None without a base."""
    if not previous:
        return None
    return _q(HUNDRED * (Decimal(current) - Decimal(previous)) / Decimal(previous), _TENTH)


def difference(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """Plain difference of two figures with two decimals (e.g. mean totals)."""
    if current is None or previous is None:
        return None
    return _q(Decimal(current) - Decimal(previous), _CENT)


def signed(value: Decimal | None, suffix: str = "") -> str:
    """How a change is printed: +1.2, −30.0 (a true minus sign), 0.0; '—' when there is none."""
    if value is None:
        return "—"
    if value > 0:
        return f"+{value}{suffix}"
    if value < 0:
        return f"−{-value}{suffix}"
    return f"{value}{suffix}"


def same_period_end(year: int, today: dt.date) -> tuple[int, int] | None:
    """The (month, day) both years are cut at for a year-on-year comparison, or None for whole years.

    A year still running is compared with the same stretch of the year before (1 January to
    today's month and day): comparing eleven months with twelve would report a fall that is only
    the calendar. Past years are compared whole.
    """
    if year != today.year:
        return None
    return today.month, today.day


def in_period(day: dt.date, cut: tuple[int, int] | None) -> bool:
    return cut is None or (day.month, day.day) <= cut


# --- results ------------------------------------------------------------------------------


def colour_shares(counts: Mapping[str, int]) -> list[dict]:
    """Each colour's count and share of all coloured institutions, in the order green→red."""
    total = sum(counts.get(c, 0) for c in COLOURS)
    return [{"colour": c, "label": str(COLOUR_LABELS[c]), "count": counts.get(c, 0),
             "share": percent(counts.get(c, 0), total)} for c in COLOURS]


@dataclass(frozen=True)
class Bin:
    key: str
    label: str
    low: Decimal | None  # inclusive
    high: Decimal | None  # exclusive

    def holds(self, total: Decimal) -> bool:
        return (self.low is None or total >= self.low) and (self.high is None or total < self.high)


SCORE_BINS: tuple[Bin, ...] = (
    Bin("lt60", "<60", None, Decimal(60)),
    Bin("60", "60–70", Decimal(60), Decimal(70)),
    Bin("70", "70–80", Decimal(70), Decimal(80)),
    Bin("80", "80–90", Decimal(80), Decimal(90)),
    Bin("90", "90–100", Decimal(90), Decimal(100)),
    Bin("ge100", "≥100", Decimal(100), None),
)


def bin_for(total: Decimal) -> Bin:
    return next(b for b in SCORE_BINS if b.holds(total))


def score_distribution(totals: Iterable[Decimal]) -> list[dict]:
    """How many totals fall in each band of SCORE_BINS (lower bound inclusive)."""
    counts = {b.key: 0 for b in SCORE_BINS}
    for total in totals:
        counts[bin_for(total).key] += 1
    return [{"key": b.key, "label": b.label, "count": counts[b.key]} for b in SCORE_BINS]


def item_share(average: Decimal | None, maximum: Decimal | None) -> Decimal | None:
    if average is None or not maximum:
        return None
    return percent(average, maximum)


# --- the city's clean-finance index ---------------------------------------------------------

# Component weights (sum 1) and the colour values of the colour component; see docs/city-index.md.
INDEX_WEIGHTS: Mapping[str, Decimal] = {
    "score": Decimal("0.5"), "colour": Decimal("0.2"), "red_line": Decimal("0.2"), "complaints": Decimal("0.1"),
}
COLOUR_VALUES: Mapping[str, Decimal] = {
    "green": Decimal(1), "blue": Decimal("0.75"), "yellow": Decimal("0.4"), "red": ZERO,
}
# Substantiated complaints per institution at which the complaints component reaches 0.
COMPLAINTS_PER_INSTITUTION_AT_ZERO = Decimal(1)


@dataclass(frozen=True)
class DistrictYear:
    """One district's year, as the city index needs it (aggregates only: no institution, no person)."""

    institutions: int
    total_sum: Decimal
    colours: Mapping[str, int]
    red_lines: int
    substantiated: int = 0
    partially: int = 0


@dataclass(frozen=True)
class CityIndex:
    index: Decimal | None
    score: Decimal | None
    colour: Decimal | None
    red_line: Decimal | None
    complaints: Decimal | None
    mean_total: Decimal | None
    complaints_per_institution: Decimal | None


def city_index(data: DistrictYear, weights: Mapping[str, Decimal] = INDEX_WEIGHTS) -> CityIndex:
    """清廉金融指数 of one district and year, 0–100 with two decimals (None without results); `weights`
    are the city's own (scoring.selectors.city_weights, edited on /scoring/city/), the defaults below
    without them.

    score      = min(mean total, 100)
    colour     = 100 × Σ colour value × count / n   (green 1, blue 0.75, yellow 0.4, red 0)
    red_line   = 100 × (1 − red-line institutions / n)
    complaints = 100 × max(0, 1 − (substantiated + ½ partially substantiated) / n)
    index      = w_score·score + w_colour·colour + w_red_line·red_line + w_complaints·complaints
                 (default 0.5 / 0.2 / 0.2 / 0.1)
    """
    n = data.institutions
    if n <= 0:
        return CityIndex(None, None, None, None, None, None, None)
    mean_total = Decimal(data.total_sum) / n
    score = min(mean_total, HUNDRED)
    colour = HUNDRED * sum((COLOUR_VALUES[c] * data.colours.get(c, 0) for c in COLOURS), ZERO) / n
    red_line = HUNDRED * (1 - Decimal(data.red_lines) / n)
    per_institution = (Decimal(data.substantiated) + Decimal(data.partially) / 2) / n
    complaints = HUNDRED * max(ZERO, 1 - per_institution / COMPLAINTS_PER_INSTITUTION_AT_ZERO)
    index = (weights["score"] * score + weights["colour"] * colour
             + weights["red_line"] * red_line + weights["complaints"] * complaints)
    return CityIndex(
        index=_q(index, _CENT), score=_q(score, _CENT), colour=_q(colour, _CENT), red_line=_q(red_line, _CENT),
        complaints=_q(complaints, _CENT), mean_total=_q(mean_total, _CENT),
        complaints_per_institution=_q(per_institution, _CENT),
    )


def league_ranks(indexes: Sequence[Decimal | None]) -> list[int | None]:
    """Competition ranks of districts by index, highest first; districts without an index get None."""
    present = sorted((v for v in indexes if v is not None), reverse=True)
    return [None if v is None else present.index(v) + 1 for v in indexes]
