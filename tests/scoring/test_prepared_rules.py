"""The prepared rules the aggregation applies (`rules.BasicRule`, `rules.ResultRule`) against the plain
rules and against SCORING.md computed independently here (per indicator, in fractions), on many
random inputs and on the worked example. No database."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import rules
from scoring.rules import SOURCES, SchemeParams

D = Decimal


def spec_basic(weights: dict[str, Decimal], present: tuple[str, ...], points: dict[str, list[Decimal]]) -> str:
    """SCORING.md step 2 as written: per indicator the weighted mean over the present sources (weights
    renormalised; plain mean when they sum to 0), summed, rounded half up to cents once."""
    w = {s: Fraction(weights[s]) for s in present}
    total_weight = sum(w.values(), Fraction(0))
    if total_weight == 0:
        w = dict.fromkeys(present, Fraction(1))
        total_weight = Fraction(len(present))
    indicators = max(len(points.get(s, [])) for s in present)
    basic = Fraction(0)
    for i in range(indicators):
        basic += sum((w[s] * Fraction(points[s][i]) for s in present if i < len(points.get(s, []))),
                     Fraction(0)) / total_weight
    cents = floor(basic * 100 + Fraction(1, 2))  # half up (points and weights are not negative)
    return f"{cents // 100}.{cents % 100:02d}"


_EXACT = Context(prec=60, traps=[InvalidOperation, Inexact])
_DIVIDE = Context(prec=60, rounding=ROUND_DOWN)


def decimal_basic(weights: dict[str, Decimal], present: tuple[str, ...], sums: dict[str, Decimal]) -> Decimal:
    """The rule as it was computed before the prepared form (Decimal, 60 digits, truncated quotient)."""
    weight_total = numerator = D(0)
    for source in present:
        weight_total = _EXACT.add(weight_total, weights[source])
        numerator = _EXACT.add(numerator, _EXACT.multiply(weights[source], sums.get(source, D(0))))
    if weight_total == 0:
        numerator = sum((sums.get(s, D(0)) for s in present), D(0))
        weight_total = D(len(present))
    return _DIVIDE.divide(numerator, weight_total).quantize(D("0.01"), rounding=ROUND_HALF_UP)


# Weights as a finance center types them (up to three places), sometimes zero, summing to 1 or not
# (a draft scheme's weights are not checked by the rules).
weight = st.integers(0, 1000).map(lambda n: D(n).scaleb(-3))
weights_st = st.fixed_dictionaries({s: weight for s in SOURCES})
present_st = st.lists(st.sampled_from(SOURCES), min_size=1, max_size=3, unique=True).map(
    lambda xs: tuple(s for s in SOURCES if s in xs))
# Entry points: 0 to 40 with one decimal place, up to 12 indicators per sheet.
points_st = st.lists(st.integers(0, 400).map(lambda n: D(n).scaleb(-1)), min_size=0, max_size=12)


@settings(max_examples=400, deadline=None)
@given(weights=weights_st, present=present_st, sheets=st.fixed_dictionaries({s: points_st for s in SOURCES}))
def test_prepared_basic_equals_plain_rule_and_spec(weights, present, sheets):
    params = SchemeParams(weights=weights)
    sums = {s: sum(sheets[s], D("0.0")) for s in present}
    tenths = [int(sums.get(s, D(0)) * 10) for s in SOURCES]
    expected = spec_basic(weights, present, sheets)
    assert str(rules.basic_score(params, present, sums)) == expected
    assert str(rules.basic_rule(params, present).tenths(tenths)) == expected
    assert str(decimal_basic(weights, present, sums)) == expected
    # The per-item summary's integer cents: the same rounding.
    assert D(rules.basic_rule(params, present).cents(tenths)).scaleb(-2) == D(expected)


@settings(max_examples=300, deadline=None)
@given(weights=weights_st, present=present_st,
       tenths=st.lists(st.integers(-5000, 5000), min_size=3, max_size=3))
def test_cents_is_tenths_in_whole_cents_whatever_the_sign(weights, present, tenths):
    rule = rules.basic_rule(SchemeParams(weights=weights), present)
    assert rule.cents(tenths) == int(rule.tenths(tenths).scaleb(2))


@settings(max_examples=300, deadline=None)
@given(weights=st.fixed_dictionaries({s: st.integers(-1000, 1000).map(lambda n: D(n).scaleb(-3)) for s in SOURCES}),
       present=present_st,
       rows=st.lists(st.lists(st.integers(-5000, 5000), min_size=3, max_size=3), min_size=0, max_size=12))
def test_cents_each_is_cents_of_each_row_whatever_the_weights_and_signs(weights, present, rows):
    """The per-item summary's unrolled loop gives `cents` of every row, in order, also for weights that
    sum to a negative or zero divisor (the general path)."""
    rule = rules.basic_rule(SchemeParams(weights=weights), present)
    assert rule.cents_each(rows) == [rule.cents(row) for row in rows]
    assert rule.cents_each(iter([tuple(row) for row in rows])) == [rule.cents(row) for row in rows]


@settings(max_examples=300, deadline=None)
@given(weights=weights_st, present=present_st,
       tenths=st.lists(st.integers(0, 1200), min_size=3, max_size=3),
       bonus=st.integers(0, 300), red=st.booleans(), substantiated=st.integers(0, 7), partially=st.integers(0, 7),
       bonus_cap=st.integers(0, 200), bands=st.lists(st.integers(1, 120), min_size=3, max_size=3, unique=True))
def test_prepared_result_equals_compute_from_sums(weights, present, tenths, bonus, red, substantiated, partially,
                                                  bonus_cap, bands):
    green, blue, yellow = sorted(bands, reverse=True)
    params = SchemeParams(weights=weights, bonus_cap=D(bonus_cap).scaleb(-1), band_green=D(green),
                          band_blue=D(blue), band_yellow=D(yellow))
    sums = {s: D(t).scaleb(-1) for s, t in zip(SOURCES, tenths, strict=True) if s in present}
    bonus_sum = D(bonus).scaleb(-1)
    plain = rules.compute_from_sums(params, present, sums, bonus_sum, red, substantiated, partially)
    rule = rules.result_rule(params, present)
    prepared = rule.values(rule.basic.tenths(tenths), bonus_sum, red, substantiated, partially)
    assert prepared == plain
    # Field by field as text too: the API and exports print these as they are.
    assert [str(getattr(prepared, f)) for f in ("basic", "bonus", "deduction", "total")] == \
        [str(getattr(plain, f)) for f in ("basic", "bonus", "deduction", "total")]
    # And against the rules one by one, as compute_from_sums combined them before the prepared form.
    basic = decimal_basic(weights, present, sums)
    bonus_points = rules.bonus_score(params, "inspection" in present, bonus_sum)
    deduction = rules.complaint_deduction(params, substantiated, partially)
    total = rules.round_half_up(max(basic + bonus_points - deduction, D(0)))
    colour = rules.colour_for(total, red, params)
    assert (str(plain.basic), str(plain.total), plain.colour, plain.status) == (
        str(basic), str(total), colour, "final" if len(present) == 3 else "provisional")
    assert dict(plain.uses) == rules.resolve_linkage(rules.linkage_table_of(params), colour, red)


def test_worked_example_through_the_prepared_rule():
    params = SchemeParams()
    rule = rules.result_rule(params, SOURCES)
    # Sheet sums 98 / 84 / 88 basic, inspection bonus 11.
    values = rule.values(rule.basic.tenths([980, 840, 880]), D("11"), False)
    assert (str(values.basic), str(values.bonus), str(values.total), values.colour, values.status) == (
        "88.00", "10.00", "98.00", "green", "final")
    with_complaints = rule.values(rule.basic.tenths([980, 840, 880]), D("11"), False, 2)
    assert str(with_complaints.total) == "96.00"
    provisional = rules.result_rule(params, ("self", "inspection"))
    assert str(provisional.basic.tenths([980, 840, 0])) == "88.00"  # 61.6 / 0.7
    assert str(provisional.basic.tenths([980, 840, 999999])) == "88.00"  # an absent source's sum is ignored


def test_rules_are_remembered_per_params_and_sources():
    params = SchemeParams()
    assert rules.result_rule(params, ("self", "inspection")) is rules.result_rule(params, ("self", "inspection"))
    assert rules.result_rule(params, {"inspection", "self"}) is rules.result_rule(params, ["self", "inspection"])
    assert rules.result_rule(params, ()) is None
    assert rules.result_rule(SchemeParams(), ("self",)) is not rules.result_rule(params, ("self",))
    with pytest.raises(ValueError):
        rules.result_rule(params, ("auditor",))
    with pytest.raises(ValueError):
        rules.basic_score(params, (), {})


def test_prepared_rule_refuses_floats_and_bools():
    params = SchemeParams()
    with pytest.raises(TypeError):
        rules.basic_score(params, ("self",), {"self": 88.0})
    with pytest.raises(ValueError):  # counts are validated even when a memo entry for (1, 0) exists
        rule = rules.result_rule(params, ("self",))
        rule.values(D("1.00"), D(0), False, 1, 0)
        rule.values(D("1.00"), D(0), False, True, 0)


def test_cents_half_up_ties_and_signs():
    half_up = rules._cents_half_up
    assert [str(half_up(n, d)) for n, d in ((1, 2), (-1, 2), (1, 3), (2, 3), (0, 5), (-1, 200), (9800, 1),
                                             (1, -2))] == ["0.01", "-0.01", "0.00", "0.01", "0.00", "-0.00",
                                                           "98.00", "-0.01"]


def test_copy_line_equals_the_generic_copy_text():
    """The results' COPY lines built from shared parts equal the value-by-value text (`_copy_text`)."""
    from scoring.services import ComputedResult, _copy_line, _copy_text

    table = rules.default_linkage_uses()
    table["party_building"]["red"]["label"] = "不得\t评星\\"  # escaped in COPY text
    params = SchemeParams(linkage_uses=table)
    texts: dict = {}
    for i, (present, tenths, red, category, counts) in enumerate([
            (SOURCES, [980, 840, 880], False, "bank", (0, 0)),
            (("self",), [350, 0, 0], False, "bank", (2, 1)),
            (("inspection", "third_party"), [0, 800, 760], True, "小额\t贷款", (0, 3)),
            (SOURCES, [980, 840, 880], True, "bank", (1, 0)),
            (("self", "inspection"), [700, 720, 0], False, "insurance", (0, 0))]):
        rule = rules.result_rule(params, present)
        values = rule.values(rule.basic.tenths(tenths), D("8.5"), red, *counts)
        result = ComputedResult(100 + i, category, values, *counts, values.status, rank=i + 1, category_rank=1,
                                district_id=7, item_cents={"1": 7020 + i, "2": 1780, "10": 0} if i % 2 else {})
        for run_id in (None, 42):
            generic = "\t".join(map(_copy_text, (result.institution_id, 2026, 7, *result.field_values().values(),
                                                 run_id, "2026-11-29T18:00:00+00:00"))) + "\n"
            assert _copy_line(result, 2026, run_id, "2026-11-29T18:00:00+00:00", texts) == generic


@pytest.mark.parametrize("value", [{"1": 7020, "2": 1780}, {"标签": "正常"}, ["a\tb", "c\nd", "e\\f", 'g"h', "i\rj"],
                                   {"k": "\x01"}, []])
def test_copy_text_of_a_document_escapes_what_the_copy_format_needs(value):
    """A JSON document's COPY text: the text-format escapes of its JSON (backslashes doubled; JSON has
    no raw tab or line break), as for any other value."""
    import orjson

    from scoring.services import _copy_text

    json_text = orjson.dumps(value).decode()
    assert _copy_text(value) == json_text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    assert "\t" not in _copy_text(value) and "\n" not in _copy_text(value)
