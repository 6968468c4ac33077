"""`{% linkage_letters district_year %}`: the year page's section of letters (结果运用函) and their log."""

from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("scoring/letters/_section.html")
def linkage_letters(district_year):
    if district_year.status != "published":
        return {"shown": False}
    return {"shown": True, "district_year": district_year,
            "letters": list(selectors.letters_of(district_year.district_id, district_year.year)),
            "dispatches": list(selectors.letter_dispatches(district_year.district_id, district_year.year, 20))}
