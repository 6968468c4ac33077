"""The "satisfied" threshold is a setting (COMPLAINTS_SATISFIED_THRESHOLD, issue #12 item 7): 4 (满意)
by default; 3 follows Zhejiang's 好差评 practice (基本满意 counts as good). Public ratings are counted
with the threshold in force; questionnaire answers keep the satisfaction computed when given."""

from decimal import Decimal

import pytest
from django.utils import timezone

from complaints import rules, selectors, services
from tests.complaints.helpers import submit_case

pytestmark = pytest.mark.django_db


def rate(bank, *scores):
    keys = ("attitude", "efficiency", "integrity")
    submit_case(bank, kind="rating", description="", ratings=dict(zip(keys, scores, strict=False)))


def month_figures(year, month):
    return selectors.satisfaction_by_month(year).get(month, {"rated": 0, "satisfied": 0})


def test_the_default_is_4(settings):
    assert settings.COMPLAINTS_SATISFIED_THRESHOLD == 4
    assert selectors.satisfied_threshold() == Decimal(4)
    assert rules.is_satisfied([4, 4, 4]) is True and rules.is_satisfied([3, 3, 3]) is False


@pytest.mark.parametrize(("threshold", "expected"), [(4, 1), (3, 3), (3.5, 2)])
def test_public_ratings_count_with_the_threshold(settings, bank, threshold, expected):
    settings.COMPLAINTS_SATISFIED_THRESHOLD = threshold
    rate(bank, 5, 4, 4)   # mean 4.33
    rate(bank, 4, 4, 3)   # mean 3.67
    rate(bank, 3, 3, 3)   # mean 3: 基本满意
    rate(bank, 2, 2, 2)   # never
    today = timezone.localdate()
    figures = month_figures(today.year, today.month)
    assert figures["rated"] == 4 and figures["satisfied"] == expected
    per_institution = selectors.satisfaction_by_institution_month(today.year)
    assert per_institution[(bank.pk, today.month)]["satisfied"] == expected


@pytest.mark.parametrize(("threshold", "satisfied"), [(4, False), (3, True)])
def test_questionnaire_answers_use_the_threshold_when_given(settings, bank, threshold, satisfied):
    settings.COMPLAINTS_SATISFIED_THRESHOLD = threshold
    questionnaire = services.ensure_questionnaire(timezone.localdate().year)
    answers = {q.pk: ("3" if q.kind == "rating" else "yes" if q.kind == "yes_no" else "")
               for q in questionnaire.questions.all()}
    result = services.submit_survey(questionnaire, bank, answers)
    assert result.response.mean_rating == Decimal("3.00")
    assert result.response.satisfied is satisfied
