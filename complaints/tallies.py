"""The monthly complaint tally (models.ComplaintTally): kept in step with the cases by the services,
and rebuilt from them.

Every service that creates a case or changes what the statistics count of it (kind, status into
merged, outcome and conclusion, due dates) takes the case's share before the change
(`share_of`) and records the difference after it (`record`), in the case's own transaction: an
atomic upsert per row touched, so cases arriving or concluded at the same time in the same month
each land once. Whatever writes cases in bulk (demo seeders, benchmark generators) calls
`rebuild_complaint_tallies` afterwards; beat rebuilds nightly (repairing any drift, and following a
changed COMPLAINTS_SATISFIED_THRESHOLD).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from . import rules, selectors
from .models import Complaint, ComplaintTally

_FIELDS = ("institution_id", "kind", "status", "outcome", "received_at", "concluded_at", "deadlines",
           "rating_attitude", "rating_efficiency", "rating_integrity")
_KEY = ("institution_id", "year", "month", "kind", "outcome")


def _share(values: dict, threshold) -> rules.TallyShare | None:
    tz = timezone.get_default_timezone()
    concluded = values["concluded_at"]
    return rules.tally_share(
        institution_id=values["institution_id"], kind=values["kind"], status=values["status"],
        outcome=values["outcome"], received_on=timezone.localtime(values["received_at"], tz).date(),
        concluded_on=None if concluded is None else timezone.localtime(concluded, tz).date(),
        deadlines=values["deadlines"] or {},
        scores=(values["rating_attitude"], values["rating_efficiency"], values["rating_integrity"]),
        threshold=threshold)


def share_of(case: Complaint) -> rules.TallyShare | None:
    """The case's share in the tally as it stands now (in memory): take it before changing a case."""
    return _share({name: getattr(case, name) for name in _FIELDS}, selectors.satisfied_threshold())


def _table() -> str:
    return transaction.get_connection().ops.quote_name(ComplaintTally._meta.db_table)


def _add(connection, key: tuple, deltas: tuple[int, ...]) -> None:
    """Add `deltas` to the row `key` (created when missing), never below zero: a tally that drifted
    (a case written around the services) must not make a user's action fail; the nightly rebuild
    repairs it."""
    table = _table()
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    columns = ", ".join(rules.TALLY_FIGURES)
    updates = ", ".join(f"{name} = {greatest}({table}.{name} + %s, 0)" for name in rules.TALLY_FIGURES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(_KEY)}, {columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * (len(_KEY) + len(deltas)))}) "
            f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {updates}",
            [*key, *(max(d, 0) for d in deltas), *deltas])


def record(before: rules.TallyShare | None, after: rules.TallyShare | None) -> None:
    """Move a case's share from `before` (None: it was not counted, e.g. a new case) to `after` (None:
    no longer counted). Call it inside the case's transaction; nothing is written when nothing changed."""
    if before == after:
        return
    changes: dict[tuple, list[int]] = {}
    for share, sign in ((before, -1), (after, 1)):
        if share is not None:
            totals = changes.setdefault(share.key, [0] * len(rules.TALLY_FIGURES))
            for i, value in enumerate(share.figures()):
                totals[i] += sign * value
    connection = transaction.get_connection()
    for key, deltas in sorted(changes.items()):  # one order everywhere: no deadlock between two cases
        if any(deltas):
            _add(connection, key, tuple(deltas))


def rebuild_complaint_tallies(institution_ids: Iterable[int] | None = None, *, per_transaction: int = 500,
                              chunk: int = 5000) -> int:
    """Recompute the tallies (of every institution, or of these) from the cases; the rows written.

    Idempotent. The cases are read and their shares summed with the same rule the services use
    (rules.tally_share), so a rebuild and the running tally cannot disagree on what counts.
    `per_transaction` institutions at a time, each batch in its own transaction: on PostgreSQL the
    tally table is first locked against writers (SHARE ROW EXCLUSIVE; readers go on), so a case being
    recorded either committed before the lock (and is read) or records itself after the batch commits
    (and is not read): none is lost or counted twice, and writers wait for one batch (a fraction of a
    second), never for the whole rebuild.
    """
    if institution_ids is None:
        from institutions.models import Institution

        ids = sorted(set(Institution.objects.values_list("pk", flat=True))
                     | set(ComplaintTally.objects.values_list("institution_id", flat=True).distinct()))
    else:
        ids = sorted(set(institution_ids))
    threshold = selectors.satisfied_threshold()
    return sum(_rebuild(ids[i:i + per_transaction], threshold, chunk) for i in range(0, len(ids), per_transaction))


def _rebuild(ids: list[int], threshold, chunk: int) -> int:
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {_table()} IN SHARE ROW EXCLUSIVE MODE")
        ComplaintTally.objects.filter(institution_id__in=ids).delete()  # nothing refers to a tally: one DELETE
        rows = tally_rows(Complaint.objects.exclude(status=rules.MERGED).filter(institution_id__in=ids)
                          .order_by().values(*_FIELDS).iterator(chunk_size=chunk), threshold)
        ComplaintTally.objects.bulk_create(
            [ComplaintTally(**dict(zip(_KEY, key, strict=True)), **dict(zip(rules.TALLY_FIGURES, totals, strict=True)))
             for key, totals in sorted(rows.items())], batch_size=2000)
        return len(rows)


def tally_rows(cases: Iterable[dict], threshold) -> dict[tuple, list[int]]:
    """key → summed figures over `cases` (dicts of the fields a share reads): the rebuild's, and the
    migration's that filled the table."""
    rows: dict[tuple, list[int]] = {}
    for values in cases:
        share = _share(values, threshold)
        if share is None:
            continue
        totals = rows.setdefault(share.key, [0] * len(rules.TALLY_FIGURES))
        for i, value in enumerate(share.figures()):
            totals[i] += value
    return rows
