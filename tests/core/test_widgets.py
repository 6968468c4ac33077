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


@pytest.mark.parametrize(("widget", "value"), [
    (forms.TextInput(attrs={"class": "vTextField", "maxlength": 20}), 'B1 "甲" <b>'),
    (forms.TextInput(), None),
    (forms.NumberInput(attrs={"min": 0, "step": "0.1"}), 4.5),
    (forms.HiddenInput(), 17),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(attrs={"class": "x"}), False),
])
@pytest.mark.parametrize("attrs", [None, {"id": "id_f", "required": True, "disabled": False}])
def test_plain_inputs_write_the_same_markup(widget, value, attrs):
    import copy

    from core.widgets import plain

    django = widget.render("f", value, attrs)
    written = plain(copy.deepcopy(widget))
    assert type(written).__name__.startswith("Plain")
    assert parse_html(written.render("f", value, attrs)) == parse_html(django)


def test_plain_leaves_other_widgets_alone():
    from core.widgets import plain

    for widget in (forms.Textarea(), forms.PasswordInput(), forms.SelectMultiple(choices=CHOICES),
                   forms.ClearableFileInput(), forms.MultipleHiddenInput()):
        cls = type(widget)
        assert type(plain(widget)) is cls
