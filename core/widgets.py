"""Form widgets for pages that repeat one widget many times (admin inlines)."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join


class PlainSelect(forms.Select):
    """A <select> whose options are written in Python, not one template rendering each: a scheme's
    36 indicator rows with 30 options each took 0.4 s of template work on the admin page. The same
    markup as Select (name, attributes, optgroups, the selected option)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group, options, _index in widget["optgroups"]:
            rendered = format_html_join(
                "", "<option value=\"{}\"{}{}>{}</option>",
                ((option["value"] if option["value"] is not None else "",
                  flatatt({k: v for k, v in option["attrs"].items() if k != "selected"}),
                  flatatt({"selected": True}) if option["selected"] else "", option["label"]) for option in options))
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', group, rendered) if group else rendered)
        return format_html("<select name=\"{}\"{}>{}</select>", widget["name"], flatatt(widget["attrs"]),
                           format_html_join("", "{}", ((part,) for part in parts)))


class PlainInputMixin:
    """An <input> written in Python (type, name, value, attributes: Input's template's markup)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        value_attr = format_html(' value="{}"', widget["value"]) if widget["value"] is not None else ""
        return format_html('<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], value_attr,
                           flatatt(widget["attrs"]))


_PLAIN: dict[type, type] = {}


def plain(widget: forms.Widget) -> forms.Widget:
    """The same widget, rendered without templates when it is a plain <input> or a <select> (the
    others, and widgets with their own template, unchanged)."""
    cls = type(widget)
    if isinstance(widget, (PlainInputMixin, PlainSelect)):
        return widget
    if isinstance(widget, forms.Select) and not isinstance(widget, forms.SelectMultiple) and \
            cls.template_name == forms.Select.template_name:
        base = PlainSelect
    elif isinstance(widget, forms.widgets.Input) and cls.template_name in (
            forms.TextInput.template_name, forms.NumberInput.template_name, forms.HiddenInput.template_name,
            forms.CheckboxInput.template_name):
        base = PlainInputMixin
    else:
        return widget
    plain_cls = _PLAIN.get(cls)
    if plain_cls is None:
        plain_cls = _PLAIN[cls] = type(f"Plain{cls.__name__}", (base, cls), {})
    widget.__class__ = plain_cls
    return widget
