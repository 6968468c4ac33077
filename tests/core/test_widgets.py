"""core.widgets.PlainSelect writes the same markup as Django's Select, without a template per option."""

import pytest
from django import forms
from django.test.html import parse_html

from core.widgets import PlainSelect

CHOICES = [("", "---------"), ("a", "甲 <b>"), ("b", "乙"), ("组", [("c", "丙"), ("d", "丁 & 戊")])]


@pytest.mark.parametrize("value", [None, "", "a", "d", "x"])
@pytest.mark.parametrize("attrs", [None, {"id": "id_kind", "required": True, "disabled": True, "class": "k"}])
def test_plain_select_markup_equals_select(value, attrs):
    plain = PlainSelect(choices=CHOICES).render("kind", value, attrs)
    django = forms.Select(choices=CHOICES).render("kind", value, attrs)
    assert parse_html(plain) == parse_html(django)
    assert "&lt;b&gt;" in plain and "&amp;" in plain  # labels escaped


def test_plain_select_in_a_form_shows_the_initial_choice():
    field = forms.ChoiceField(choices=CHOICES, widget=PlainSelect)
    form = type("F", (forms.Form,), {"f": field})(initial={"f": "b"})
    assert parse_html('<option value="b" selected>乙</option>') in parse_html(str(form["f"]))
