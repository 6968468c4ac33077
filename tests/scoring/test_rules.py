"""Tests for scoring.rules against /work/shared/spec/SCORING.md (no database, no Django)."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.rules import (
    SOURCES,
    EntryValueError,
    IndicatorSpec,
    ResultValues,
    SchemeParams,
    basic_score,
    bonus_score,
    colour_for,
    competition_ranks,
    complaint_deduction,
    compute_from_sums,
    compute_result,
    employee_colour,
    employee_total,
    parse_entry_value,
    round_half_up,
    validate_scheme_params,
)

D = Decimal
DEFAULT = SchemeParams()

# ---------------------------------------------------------------------------------------------
# The worked example from SCORING.md
# ---------------------------------------------------------------------------------------------

WORKED_INDICATORS = (
    IndicatorSpec("B1", "basic", D("40")),
    IndicatorSpec("B2", "basic", D("40")),
    IndicatorSpec("B3", "basic", D("20")),
    IndicatorSpec("X1", "bonus", D("6")),
    IndicatorSpec("X2", "bonus", D("6")),
    IndicatorSpec("R1", "red_line", None),
)


def worked_sheets() -> dict[str, dict[str, Decimal | bool]]:
    return {
        "self": {"B1": D("40"), "B2": D("38"), "B3": D("20"), "X1": D("6"), "X2": D("6"), "R1": False},
        "inspection": {"B1": D("36"), "B2": D("30"), "B3": D("18"), "X1": D("6"), "X2": D("5"), "R1": False},
        "third_party": {"B1": D("38"), "B2": D("34"), "B3": D("16"), "R1": False},
    }


def assert_cents(value: Decimal, expected: str) -> None:
    # Exactly two places, not merely numerically equal: the API and exports print these as-is.
    assert isinstance(value, Decimal)
    assert str(value) == expected


def test_worked_example_final():
    result = compute_result(DEFAULT, WORKED_INDICATORS, worked_sheets(), substantiated=2)
    assert result is not None
    assert_cents(result.basic, "88.00")
    assert_cents(result.bonus, "10.00")
    assert_cents(result.deduction, "2.00")
    assert_cents(result.total, "96.00")
    assert result.red_line is False
    assert result.colour == "green"
    assert result.status == "final"
    assert result.sources == ("self", "inspection", "third_party")
    assert result.linkage == "priority"


def test_worked_example_without_complaints():
    result = compute_result(DEFAULT, WORKED_INDICATORS, worked_sheets())
    assert result is not None
    assert_cents(result.deduction, "0.00")
    assert_cents(result.total, "98.00")
    assert result.colour == "green"


def test_worked_example_third_party_not_submitted_is_provisional():
    sheets = worked_sheets()
    del sheets["third_party"]
    result = compute_result(DEFAULT, WORKED_INDICATORS, sheets, substantiated=2)
    assert result is not None
    assert_cents(result.basic, "88.00")
    assert_cents(result.bonus, "10.00")
    assert_cents(result.total, "96.00")
    assert result.status == "provisional"
    assert result.sources == ("self", "inspection")
    assert result.colour == "green"


def test_worked_example_red_line_on_third_party_sheet():
    sheets = worked_sheets()
    sheets["third_party"]["R1"] = True
    result = compute_result(DEFAULT, WORKED_INDICATORS, sheets, substantiated=2)
    assert result is not None
    assert result.red_line is True
    assert_cents(result.total, "96.00")
    assert result.colour == "red"
    assert result.linkage == "excluded"
    # Below every institution without a red-line hit, even one scoring 0.
    ranks = competition_ranks([(result.red_line, result.total), (False, D("69.99")), (False, D("0.00"))])
    assert ranks == [3, 1, 2]


def test_worked_example_from_sums_matches_from_sheets():
    from_sheets = compute_result(DEFAULT, WORKED_INDICATORS, worked_sheets(), substantiated=2)
    from_sums = compute_from_sums(
        DEFAULT,
        present={"third_party", "self", "inspection"},
        basic_sum_by_source={"self": D("98"), "inspection": D("84"), "third_party": D("88")},
        inspection_bonus_sum=D("11"),
        red_line_hit=False,
        substantiated=2,
    )
    assert from_sums == from_sheets


# ---------------------------------------------------------------------------------------------
# Individual rules
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("substantiated", "partially", "expected"),
    [
        (0, 0, "0.00"),
        (2, 0, "2.00"),
        (5, 0, "5.00"),
        (6, 0, "5.00"),
        (40, 0, "5.00"),
        (0, 1, "0.50"),
        (1, 3, "2.50"),
        (4, 2, "5.00"),
        (4, 3, "5.00"),
        (0, 9, "4.50"),
        (0, 11, "5.00"),
    ],
)
def test_complaint_deduction_cap_and_partial_half(substantiated, partially, expected):
    assert_cents(complaint_deduction(DEFAULT, substantiated, partially), expected)


def test_complaint_deduction_uses_scheme_amounts():
    params = SchemeParams(complaint_deduction=D("0.3"), complaint_deduction_cap=D("1"))
    assert_cents(complaint_deduction(params, 0, 1), "0.15")
    assert_cents(complaint_deduction(params, 3, 0), "0.90")
    assert_cents(complaint_deduction(params, 3, 1), "1.00")


@pytest.mark.parametrize(("substantiated", "partially"), [(-1, 0), (0, -1), (True, 0)])
def test_complaint_deduction_refuses_bad_counts(substantiated, partially):
    with pytest.raises(ValueError):
        complaint_deduction(DEFAULT, substantiated, partially)


def test_deduction_larger_than_score_floors_total_at_zero():
    result = compute_from_sums(DEFAULT, {"self"}, {"self": D("3.5")}, D("0"), False, substantiated=5)
    assert result is not None
    assert_cents(result.basic, "3.50")
    assert_cents(result.deduction, "5.00")
    assert_cents(result.total, "0.00")
    assert result.colour == "red"
    assert result.red_line is False


ZERO_WEIGHT_OUTSIDE_INSPECTION = SchemeParams(
    weights={"self": D("0"), "inspection": D("1"), "third_party": D("0")}
)


def test_present_weights_summing_to_zero_use_plain_mean():
    assert_cents(
        basic_score(
            ZERO_WEIGHT_OUTSIDE_INSPECTION, {"self", "third_party"}, {"self": D("80"), "third_party": D("91")}
        ),
        "85.50",
    )
    # One zero-weight source alone is its own mean, not 0.
    assert_cents(basic_score(ZERO_WEIGHT_OUTSIDE_INSPECTION, {"self"}, {"self": D("77.7")}), "77.70")


def test_plain_mean_through_compute_result():
    indicators = (IndicatorSpec("B1", "basic", D("60")), IndicatorSpec("B2", "basic", D("40")))
    sheets = {"self": {"B1": D("50"), "B2": D("30")}, "third_party": {"B1": D("55.5")}}
    result = compute_result(ZERO_WEIGHT_OUTSIDE_INSPECTION, indicators, sheets)
    assert result is not None
    # (80 + 55.5) / 2; B2 missing on the third-party sheet counts as 0.
    assert_cents(result.basic, "67.75")
    assert result.status == "provisional"
    assert result.colour == "red"
    assert result.linkage == "excluded"


def test_plain_mean_does_not_apply_when_inspection_has_weight():
    # Same zero-weight scheme, now with inspection present: inspection alone decides.
    assert_cents(
        basic_score(
            ZERO_WEIGHT_OUTSIDE_INSPECTION,
            {"self", "inspection"},
            {"self": D("100"), "inspection": D("60")},
        ),
        "60.00",
    )


def test_bonus_counts_only_inspection():
    assert_cents(bonus_score(DEFAULT, False, D("8")), "0.00")
    assert_cents(bonus_score(DEFAULT, True, D("8")), "8.00")
    assert_cents(bonus_score(DEFAULT, True, D("12.5")), "10.00")
    assert_cents(bonus_score(SchemeParams(bonus_cap=D("3")), True, D("8")), "3.00")

    sheets = worked_sheets()
    del sheets["inspection"]
    result = compute_result(DEFAULT, WORKED_INDICATORS, sheets)
    assert result is not None
    # The self sheet's claim of 12 bonus points is ignored without the inspection sheet.
    assert_cents(result.bonus, "0.00")
    # (0.2*98 + 0.3*88) / 0.5 = 92.
    assert_cents(result.basic, "92.00")


def test_inspection_bonus_sum_ignored_unless_inspection_sheet_present():
    # A set-based aggregation may still see bonus points on a draft or returned inspection sheet.
    result = compute_from_sums(
        DEFAULT, {"self", "third_party"}, {"self": D("90"), "third_party": D("90")}, D("8"), False
    )
    assert result is not None
    assert_cents(result.bonus, "0.00")
    assert_cents(result.total, "90.00")


def test_no_submitted_sheet_means_no_result():
    assert compute_result(DEFAULT, WORKED_INDICATORS, {}) is None
    assert compute_from_sums(DEFAULT, (), {}, D("0"), False) is None


def test_unknown_indicator_codes_are_ignored():
    sheets = worked_sheets()
    sheets["inspection"]["B9"] = D("40")
    sheets["self"]["R9"] = True
    result = compute_result(DEFAULT, WORKED_INDICATORS, sheets)
    assert result is not None
    assert_cents(result.total, "98.00")
    assert result.red_line is False


def test_red_line_on_self_sheet_counts_and_rejects_unknown_source():
    sheets = worked_sheets()
    sheets["self"]["R1"] = True
    result = compute_result(DEFAULT, WORKED_INDICATORS, sheets)
    assert result is not None and result.red_line and result.colour == "red"
    with pytest.raises(ValueError):
        compute_result(DEFAULT, WORKED_INDICATORS, {"auditor": {"B1": D("1")}})


def test_basic_is_rounded_once_not_per_indicator():
    # Self + inspection present (W = 0.7), inspection sheet submitted empty.
    indicators = tuple(IndicatorSpec(f"B{i}", "basic", D("10")) for i in range(1, 8))
    sheets = {"self": {f"B{i}": D("0.5") for i in range(1, 8)}, "inspection": {}}
    # c_i = 0.2*0.5/0.7 = 0.142857…; Σ of 7 = 1.00 exactly, whereas 7 × 0.14 = 0.98.
    result = compute_result(DEFAULT, indicators, sheets)
    assert result is not None
    assert_cents(result.basic, "1.00")


def test_basic_rounds_the_exact_quotient_not_an_intermediate():
    # The true quotient is 0.005 / (1 + 1e-55) = 0.00499999…(about 55 nines)…, i.e. just below
    # half a cent, so the correct result is 0.00. A division rounded half-even at 50 digits lands
    # on 0.005 exactly and a half-up rounding would then give 0.01.
    params = SchemeParams(weights={"self": D("1"), "inspection": D("0"), "third_party": D("1E-55")})
    got = basic_score(params, {"self", "third_party"}, {"self": D("0.005"), "third_party": D("0")})
    assert_cents(got, "0.00")
    # Just above half a cent goes up.
    got = basic_score(params, {"self", "third_party"}, {"self": D("0.005"), "third_party": D("1")})
    assert_cents(got, "0.01")


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (D("0.005"), 2, "0.01"),
        (D("0.0049999"), 2, "0.00"),
        (D("2.675"), 2, "2.68"),
        (D("2.665"), 2, "2.67"),
        (D("-0.005"), 2, "-0.01"),
        (D("88"), 2, "88.00"),
        (D("36.45"), 1, "36.5"),
        (D("36.44"), 1, "36.4"),
    ],
)
def test_round_half_up(value, places, expected):
    assert str(round_half_up(value, places)) == expected


@pytest.mark.parametrize(
    ("total", "red_line", "expected"),
    [
        (D("110.00"), False, "green"),
        (D("90.00"), False, "green"),
        (D("89.99"), False, "blue"),
        (D("80.00"), False, "blue"),
        (D("79.99"), False, "yellow"),
        (D("70.00"), False, "yellow"),
        (D("69.99"), False, "red"),
        (D("0.00"), False, "red"),
        (D("110.00"), True, "red"),
    ],
)
def test_colour_band_edges(total, red_line, expected):
    assert colour_for(total, red_line, DEFAULT) == expected


def test_linkage_follows_scheme_table():
    params = SchemeParams(linkage={"green": "g", "blue": "b", "yellow": "y", "red": "r"})
    result = compute_from_sums(params, {"inspection"}, {"inspection": D("85")}, D("0"), False)
    assert result is not None
    assert (result.colour, result.linkage) == ("blue", "b")


def test_competition_ranks_example():
    keys = [
        (False, D("96.00")),
        (False, D("90.00")),
        (True, D("99.00")),
        (False, D("90.0")),
        (False, D("80.00")),
        (True, D("99.00")),
        (True, D("50.00")),
    ]
    assert competition_ranks(keys) == [1, 2, 5, 2, 4, 5, 7]
    assert competition_ranks([]) == []


# ---------------------------------------------------------------------------------------------
# Scheme validation
# ---------------------------------------------------------------------------------------------


def test_default_scheme_is_valid():
    assert validate_scheme_params(DEFAULT) == []


def _weights(self_w: str, inspection: str, third_party: str) -> dict[str, Decimal]:
    return {"self": D(self_w), "inspection": D(inspection), "third_party": D(third_party)}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (SchemeParams(weights=_weights("0.2", "0.5", "0.29")), "0.99"),
        (SchemeParams(weights=_weights("0.2", "0.5", "0.31")), "1.01"),
        (SchemeParams(weights=_weights("-0.1", "0.8", "0.3")), "不能为负数"),
        (SchemeParams(weights=_weights("0.2", "0.5", "0.3" + "0" * 40 + "1")), "权重之和"),
        (SchemeParams(weights={"self": D("0.5"), "inspection": D("0.5")}), "第三方测评"),
        (SchemeParams(band_blue=D("90")), "递减"),
        (SchemeParams(band_yellow=D("85")), "递减"),
        (SchemeParams(bonus_cap=D("-1")), "加分上限"),
        (SchemeParams(complaint_deduction_cap=D("-5")), "投诉扣分上限"),
        (SchemeParams(complaint_deduction=D("-1")), "每件投诉扣分"),
        (SchemeParams(linkage={"green": "priority"}), "结果运用"),
    ],
)
def test_invalid_scheme_is_explained(params, fragment):
    problems = validate_scheme_params(params)
    # Each problem reported once, and only the problem that was planted.
    assert problems, params
    assert all(fragment in problem for problem in problems), problems


def test_weights_summing_to_one_in_another_spelling_are_valid():
    assert validate_scheme_params(SchemeParams(weights=_weights("0.20", "0.5000", "0.3"))) == []
    assert validate_scheme_params(SchemeParams(weights=_weights("0", "1", "0"))) == []


# ---------------------------------------------------------------------------------------------
# Entry values
# ---------------------------------------------------------------------------------------------

B1 = IndicatorSpec("B1", "basic", D("40"))
X1 = IndicatorSpec("X1", "bonus", D("6"))
R1 = IndicatorSpec("R1", "red_line", None)
RED_LINE_MESSAGE = "指标 R1 为红线项，只能填 1（触碰）或 0（未触碰）"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("36.5", D("36.5")),
        ("40", D("40")),
        (40, D("40")),
        (0, D("0")),
        (D("0.1"), D("0.1")),
        (D("12.50"), D("12.5")),
        (" 12 ", D("12")),
        ("4E+1", D("40")),
        ("-0", D("0")),
    ],
)
def test_parse_points_accepts(raw, expected):
    value = parse_entry_value(B1, raw)
    assert isinstance(value, Decimal) and not isinstance(value, bool)
    assert value == expected
    assert not value.is_signed()
    assert value.as_tuple().exponent == -1


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("41", ["指标 B1 的分值 41 超出上限 40"]),
        (41, ["指标 B1 的分值 41 超出上限 40"]),
        (D("40.1"), ["B1", "超出上限 40"]),
        ("1E+1000", ["B1", "超出上限 40"]),
        ("36.55", ["指标 B1 的分值最多保留一位小数"]),
        (D("0.05"), ["指标 B1 的分值最多保留一位小数"]),
        ("-1", ["B1", "-1", "低于下限 0"]),
        ("-0.1", ["B1", "低于下限 0"]),
        (36.5, ["B1", "浮点数", "40"]),
        (1.0, ["B1", "浮点数"]),
        (True, ["B1", "40"]),
        ("abc", ["B1", "不是有效数字"]),
        ("", ["B1", "不是有效数字"]),
        ("NaN", ["B1", "不是有效数字"]),
        ("Infinity", ["B1", "不是有效数字"]),
        (D("NaN"), ["B1"]),
        (None, ["B1", "40"]),
    ],
)
def test_parse_points_refuses(raw, fragments):
    with pytest.raises(EntryValueError) as excinfo:
        parse_entry_value(B1, raw)
    message = str(excinfo.value)
    for fragment in fragments:
        assert fragment in message, message


def test_parse_bonus_uses_its_own_limit():
    assert parse_entry_value(X1, "6") == D("6")
    with pytest.raises(EntryValueError, match=r"^指标 X1 的分值 6\.5 超出上限 6$"):
        parse_entry_value(X1, "6.5")


def test_entry_value_error_is_a_value_error():
    assert issubclass(EntryValueError, ValueError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("1", True), ("0", False),
     ("true", True), ("false", False), (" TRUE ", True), ("False", False)],
)
def test_parse_red_line_accepts(raw, expected):
    assert parse_entry_value(R1, raw) is expected


@pytest.mark.parametrize("raw", [2, -1, "2", "yes", "是", "", None, 1.0, 0.0, D("1"), "1.0"])
def test_parse_red_line_refuses(raw):
    with pytest.raises(EntryValueError) as excinfo:
        parse_entry_value(R1, raw)
    assert str(excinfo.value) == RED_LINE_MESSAGE


@given(st.integers(0, 400))
def test_parse_points_round_trips_every_tenth(tenths):
    value = D(tenths).scaleb(-1)
    assert parse_entry_value(B1, str(value)) == value
    assert parse_entry_value(B1, value) == value


@given(st.integers(0, 399), st.integers(1, 9))
def test_parse_points_refuses_any_second_decimal(tenths, hundredth):
    raw = f"{D(tenths).scaleb(-1)}{hundredth}"
    with pytest.raises(EntryValueError, match="最多保留一位小数"):
        parse_entry_value(B1, raw)


# ---------------------------------------------------------------------------------------------
# Employees
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("commendations", "deductions", "expected"),
    [
        ("0", "0", "100.00"),
        ("4", "0", "104.00"),
        ("15", "0", "110.00"),
        ("3.5", "20", "83.50"),
        ("10", "111", "0.00"),
        ("0", "100", "0.00"),
    ],
)
def test_employee_total(commendations, deductions, expected):
    assert_cents(employee_total(D(commendations), D(deductions)), expected)


def test_employee_total_refuses_negative_amounts():
    with pytest.raises(ValueError):
        employee_total(D("-1"), D("0"))
    with pytest.raises(ValueError):
        employee_total(D("0"), D("-1"))


def test_employee_colour():
    assert employee_colour(D("83.50"), False) == "blue"
    assert employee_colour(D("90.00"), False) == "green"
    assert employee_colour(D("69.99"), False) == "red"
    assert employee_colour(D("110.00"), True) == "red"
    assert employee_colour(D("75.00"), False, SchemeParams(band_yellow=D("76"))) == "red"


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


def _tenths(n: int) -> Decimal:
    return D(n).scaleb(-1)


@st.composite
def weights(draw) -> dict[str, Decimal]:
    # Up to four decimals, zeros included, summing to exactly 1, so renormalising divides by
    # awkward sums like 0.7 or 0.1237.
    low, high = sorted((draw(st.integers(0, 10_000)), draw(st.integers(0, 10_000))))
    parts = (low, high - low, 10_000 - high)
    return {source: D(part).scaleb(-4) for source, part in zip(SOURCES, parts, strict=True)}


@st.composite
def schemes(draw) -> tuple[SchemeParams, tuple[IndicatorSpec, ...]]:
    # Basic max_points add up to exactly 100 (in tenths, as the spec allows), as an activated scheme's do.
    count = draw(st.integers(1, 6))
    cuts = sorted(draw(st.sets(st.integers(1, 999), min_size=count - 1, max_size=count - 1)))
    bounds = [0, *cuts, 1000]
    indicators = [
        IndicatorSpec(f"B{i}", "basic", _tenths(bounds[i + 1] - bounds[i])) for i in range(count)
    ]
    for i in range(draw(st.integers(0, 3))):
        indicators.append(IndicatorSpec(f"X{i}", "bonus", _tenths(draw(st.integers(1, 100)))))
    for i in range(draw(st.integers(0, 2))):
        indicators.append(IndicatorSpec(f"R{i}", "red_line", None))
    return SchemeParams(weights=draw(weights())), tuple(indicators)


@st.composite
def sheet_sets(draw, indicators, present_sizes=(1, 3)) -> dict[str, dict[str, Decimal | bool]]:
    present = draw(st.sets(st.sampled_from(SOURCES), min_size=present_sizes[0], max_size=present_sizes[1]))
    sheets: dict[str, dict[str, Decimal | bool]] = {}
    for source in SOURCES:
        if source not in present:
            continue
        entries: dict[str, Decimal | bool] = {}
        for indicator in indicators:
            # Some entries stay missing: a missing entry on a submitted sheet counts as 0.
            if draw(st.booleans()) and draw(st.integers(0, 4)) == 0:
                continue
            if indicator.kind == "red_line":
                entries[indicator.code] = draw(st.booleans())
            else:
                assert indicator.max_points is not None
                entries[indicator.code] = _tenths(draw(st.integers(0, int(indicator.max_points * 10))))
        sheets[source] = entries
    return sheets


@st.composite
def cases(draw, present_sizes=(1, 3)):
    params, indicators = draw(schemes())
    sheets = draw(sheet_sets(indicators, present_sizes))
    substantiated = draw(st.integers(0, 8))
    partially = draw(st.integers(0, 8))
    return params, indicators, sheets, substantiated, partially


def _fraction_half_up(value: Fraction) -> Decimal:
    assert value >= 0
    return D(math.floor(value * 100 + Fraction(1, 2))).scaleb(-2)


def reference_result(params, indicators, sheets, substantiated, partially) -> tuple[Decimal, Decimal]:
    """(basic, total) straight from the spec's per-indicator formula, in exact fractions."""
    present = [source for source in SOURCES if source in sheets]
    weight = {source: Fraction(params.weights[source]) for source in present}
    weight_total = sum(weight.values(), Fraction(0))
    basic = Fraction(0)
    for indicator in indicators:
        if indicator.kind != "basic":
            continue
        points = {source: Fraction(sheets[source].get(indicator.code, 0)) for source in present}
        if weight_total == 0:
            basic += sum(points.values(), Fraction(0)) / len(present)
        else:
            basic += sum(weight[s] * points[s] for s in present) / weight_total
    bonus = Fraction(0)
    if "inspection" in sheets:
        claimed = sum(
            (Fraction(sheets["inspection"].get(i.code, 0)) for i in indicators if i.kind == "bonus"),
            Fraction(0),
        )
        bonus = min(claimed, Fraction(params.bonus_cap))
    deduction = min(
        (substantiated + Fraction(partially, 2)) * Fraction(params.complaint_deduction),
        Fraction(params.complaint_deduction_cap),
    )
    basic_cents = _fraction_half_up(basic)
    total = max(Fraction(basic_cents) + bonus - deduction, Fraction(0))
    return basic_cents, _fraction_half_up(total)


@given(cases(present_sizes=(1, 2)))
def test_provisional_renormalisation_matches_fraction_reference(case):
    params, indicators, sheets, substantiated, partially = case
    result = compute_result(params, indicators, sheets, substantiated, partially)
    assert result is not None
    assert result.status == "provisional"
    expected_basic, expected_total = reference_result(params, indicators, sheets, substantiated, partially)
    assert_cents(result.basic, str(expected_basic))
    assert_cents(result.total, str(expected_total))


@given(cases(present_sizes=(3, 3)))
def test_final_result_matches_fraction_reference(case):
    params, indicators, sheets, substantiated, partially = case
    result = compute_result(params, indicators, sheets, substantiated, partially)
    assert result is not None
    assert result.status == "final"
    expected_basic, expected_total = reference_result(params, indicators, sheets, substantiated, partially)
    assert_cents(result.basic, str(expected_basic))
    assert_cents(result.total, str(expected_total))


@given(cases())
def test_total_stays_within_0_and_110(case):
    params, indicators, sheets, substantiated, partially = case
    result = compute_result(params, indicators, sheets, substantiated, partially)
    assert isinstance(result, ResultValues)
    assert D("0") <= result.total <= D("110")
    assert D("0") <= result.basic <= D("100")
    assert D("0") <= result.bonus <= params.bonus_cap
    for amount in (result.basic, result.bonus, result.deduction, result.total):
        assert amount.as_tuple().exponent == -2
    red_line = any(
        sheets[s].get(i.code) is True for s in sheets for i in indicators if i.kind == "red_line"
    )
    assert result.red_line is red_line
    assert result.colour == colour_for(result.total, result.red_line, params)
    assert result.linkage == params.linkage[result.colour]


@given(st.data())
def test_raising_one_entry_never_lowers_the_total(data):
    params, indicators, sheets, substantiated, partially = data.draw(cases())
    scored = [i for i in indicators if i.kind != "red_line"]
    source = data.draw(st.sampled_from(sorted(sheets)))
    indicator = data.draw(st.sampled_from(scored))
    assert indicator.max_points is not None
    current = sheets[source].get(indicator.code, D("0"))
    assert isinstance(current, Decimal)
    headroom = int((indicator.max_points - current) * 10)
    if headroom == 0:
        return
    raised = current + _tenths(data.draw(st.integers(1, headroom)))
    before = compute_result(params, indicators, sheets, substantiated, partially)
    sheets[source] = {**sheets[source], indicator.code: raised}
    after = compute_result(params, indicators, sheets, substantiated, partially)
    assert before is not None and after is not None
    assert after.total >= before.total
    assert after.basic >= before.basic
    assert after.bonus >= before.bonus


@given(
    st.integers(0, 11_000).map(lambda n: D(n).scaleb(-2)),
    st.integers(0, 11_000).map(lambda n: D(n).scaleb(-2)),
    st.lists(st.integers(0, 1100), min_size=3, max_size=3, unique=True),
)
def test_colour_agrees_with_bands(total_a, total_b, band_tenths):
    green, blue, yellow = (_tenths(n) for n in sorted(band_tenths, reverse=True))
    params = SchemeParams(band_green=green, band_blue=blue, band_yellow=yellow)
    order = ["green", "blue", "yellow", "red"]
    # Red line vetoes any total.
    assert colour_for(total_a, True, params) == "red"
    # Each band starts exactly at its line, and a cent below falls to the next band.
    for colour, line in (("green", green), ("blue", blue), ("yellow", yellow)):
        assert colour_for(line, False, params) == colour
        if line > 0:
            assert order.index(colour_for(line - D("0.01"), False, params)) == order.index(colour) + 1
    # A higher total never gets a worse colour.
    low, high = sorted((total_a, total_b))
    assert order.index(colour_for(high, False, params)) <= order.index(colour_for(low, False, params))
    # And the colour is green exactly when the total reaches the green line, red when below yellow.
    assert (colour_for(total_a, False, params) == "green") == (total_a >= green)
    assert (colour_for(total_a, False, params) == "red") == (total_a < yellow)


rank_keys = st.lists(
    st.tuples(
        st.booleans(),
        st.sampled_from([D("110.00"), D("96.00"), D("96.0"), D("90.00"), D("89.99"), D("0.00"), D("0")]),
    ),
    max_size=15,
)


@given(rank_keys)
def test_rank_is_one_plus_number_strictly_better(keys):
    ranks = competition_ranks(keys)
    assert len(ranks) == len(keys)
    for i, (red_i, total_i) in enumerate(keys):
        better = sum(
            1
            for red_j, total_j in keys
            if (not red_j and red_i) or (red_j == red_i and total_j > total_i)
        )
        assert ranks[i] == 1 + better


@given(rank_keys)
def test_ties_share_rank_and_next_rank_skips(keys):
    ranks = competition_ranks(keys)
    for i in range(len(keys)):
        for j in range(len(keys)):
            if keys[i] == keys[j]:
                assert ranks[i] == ranks[j]
    distinct = sorted(set(ranks))
    if distinct:
        assert distinct[0] == 1
    for rank, following in itertools.pairwise(distinct):
        assert following == rank + ranks.count(rank)
