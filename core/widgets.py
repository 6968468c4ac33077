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
