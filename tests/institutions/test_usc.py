import pytest
from hypothesis import given
from hypothesis import strategies as st

from institutions.usc import USC_ALPHABET, make_usc_code, usc_check_character, usc_problem

# Real published codes (check characters computed by their issuers).
VALID = ["91350100M000100Y43", "91110000802100433B", "91331004MA2AAAAAAB"]


@pytest.mark.parametrize("code", VALID)
def test_known_codes_are_valid(code):
    assert usc_problem(code) is None


@pytest.mark.parametrize(("code", "words"), [
    ("91350100M000100Y4", "18位"),
    ("91350100M000100Y433", "18位"),
    ("91350100M000100Y4I", "不允许的字符：I"),
    ("91350100m000100Y43", "不允许的字符：m"),
    ("91350100M000100Y44", "校验位错误：第18位应为 3"),
])
def test_each_rule_names_itself(code, words):
    assert words in usc_problem(code)


seventeen = st.text(alphabet=USC_ALPHABET, min_size=17, max_size=17)


@given(seventeen)
def test_completed_code_is_valid(first17):
    assert usc_problem(make_usc_code(first17)) is None


@given(seventeen, st.sampled_from(USC_ALPHABET))
def test_any_other_check_character_is_rejected(first17, other):
    if other != usc_check_character(first17):
        assert "校验位错误" in usc_problem(first17 + other)


@given(seventeen, st.integers(0, 16), st.sampled_from(USC_ALPHABET))
def test_single_substitution_is_caught(first17, position, replacement):
    code = make_usc_code(first17)
    changed = code[:position] + replacement + code[position + 1:]
    if changed != code:
        assert usc_problem(changed) is not None
