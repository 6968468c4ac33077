"""The per-item summary (分项得分): each institution's weighted points on each basic item (项) of the
norms, stored in its result's row (`Result.item_cents`: item number -> cents) by the aggregation,
with the rest of the result.

The rule is the basic score's (SCORING.md step 2) restricted to one item's basic indicators: the
weighted mean over the present sources, weights renormalised over them (plain mean when they sum
to 0), an entry missing on a submitted sheet counting 0, rounded half up to cents. It is applied
by the rule behind `rules.basic_score` itself (`rules.BasicRule`, prepared once per scheme and set
of present sources), on each source's sum over the item in tenths, so it cannot drift from the
total. Every institution with a result has one key per item of its district's scheme. Item points
are rounded separately, so their sum may differ from `Result.basic` by a cent or two; `basic` stays
the reference.

Until issue 16 these were rows of their own (`ItemResult`, one per institution and item: 1.9 million
rows written and their foreign keys checked in a nation-wide first aggregation; migration
scoring.0018 moved them into the results).
"""

from __future__ import annotations

from collections.abc import Iterable

from . import rules
from .models import Indicator, IndicatorKind

_NOTHING = (0, 0, 0)


def item_numbers(scheme_id: int) -> list[int]:
    """The items (by number) holding at least one basic indicator of the scheme, in order."""
    return sorted(set(Indicator.objects.filter(scheme_id=scheme_id, kind=IndicatorKind.BASIC, clause__isnull=False)
                      .values_list("clause__item__number", flat=True)))


class ItemSummary:
    """Applies the items' rule to many results of one run: the item numbers are read once per scheme,
    and each institution's items go through the rule in one call (`rules.BasicRule.cents_each`)."""

    def __init__(self, scheme_ids: Iterable[int] = ()) -> None:
        """`scheme_ids`: the schemes whose items are read now (the others on first use)."""
        self._items: dict[int, tuple[tuple[int, ...], tuple[str, ...]]] = {}
        for scheme_id in set(scheme_ids):
            self._load(scheme_id)

    def _load(self, scheme_id: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
        numbers = item_numbers(scheme_id)
        items = self._items[scheme_id] = (tuple(numbers), tuple(str(n) for n in numbers))
        return items

    def __call__(self, scheme_id: int, rule: rules.BasicRule, item_tenths: dict) -> dict[str, int]:
        """Item number (as text, the JSON key) -> cents, for every item of the scheme; `item_tenths`:
        item number -> the basic points summed over the item per source (rules.SOURCES order), in tenths."""
        items = self._items.get(scheme_id)
        if items is None:
            items = self._load(scheme_id)
        numbers, keys = items
        entered = item_tenths.get
        return dict(zip(keys, rule.cents_each([entered(number, _NOTHING) for number in numbers]), strict=True))


__all__ = ["ItemSummary", "item_numbers"]
