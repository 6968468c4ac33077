"""The per-(warning, institution) delivery tallies stay equal to a recount of the deliveries.

Every check compares DeliveryTally with `recount()`, a plain Python loop over the Delivery rows
(the definition the dashboards used when they counted the deliveries themselves): on time means
acknowledged_at <= delivered_at + WARNINGS_ACKNOWLEDGE_WITHIN_DAYS days.
"""

import importlib
import threading
import time
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from institutions.models import Employee
from tests.conftest import client_for
from tests.factories import EmployeeFactory
from tests.warnings_feed.conftest import employee_login
from warnings_feed import selectors, services, tasks
from warnings_feed.demo import seed_warnings
from warnings_feed.models import Delivery, DeliveryTally, Warning

pytestmark = pytest.mark.django_db

WITHIN = timedelta(days=3)


@pytest.fixture(autouse=True)
def _three_days(settings):
    settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS = 3


def recount() -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """(warning id, institution id) -> (delivered, read, acknowledged, on time), by hand."""
    out: dict[tuple[int, int], list[int]] = {}
    within = timedelta(days=settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS)
    for d in Delivery.objects.all():
        counts = out.setdefault((d.warning_id, d.institution_id), [0, 0, 0, 0])
        counts[0] += 1
        counts[1] += d.read_at is not None
        counts[2] += d.acknowledged_at is not None
        counts[3] += d.acknowledged_at is not None and d.acknowledged_at <= d.delivered_at + within
    return {key: tuple(counts) for key, counts in out.items()}


def tallies() -> dict[tuple[int, int], tuple[int, int, int, int]]:
    return {(t.warning_id, t.institution_id): (t.delivered, t.read, t.acknowledged, t.acknowledged_on_time)
            for t in DeliveryTally.objects.all()}


def assert_exact() -> None:
    assert tallies() == recount()


def warning_delivered(org, *, ago: timedelta = timedelta(0), **fields) -> Warning:
    """A district-wide warning delivered `ago` (through the fan-out, as published warnings are)."""
    at = timezone.now() - ago
    warning = Warning.objects.create(title=fields.pop("title", "员工违规通报"), body="正文", scope="district",
                                     district=org.a.district, publish_at=at, **fields)
    services.fan_out(warning.pk, now=at)
    return warning


def as_seen_by(user, warning: Warning) -> Warning:
    """The warning as a page hands it to the services: with the user's own delivery annotated."""
    return selectors.feed(user).get(pk=warning.pk)


def tally_of(warning, institution) -> tuple[int, int, int, int]:
    return tallies()[(warning.pk, institution.pk)]


def test_fan_out_counts_every_delivery_per_institution(org, publish):
    warning = publish(org.finance)
    assert {k[1]: v for k, v in tallies().items() if k[0] == warning.pk} == {
        org.a.pk: (2, 0, 0, 0), org.b.pk: (1, 0, 0, 0), org.c.pk: (1, 0, 0, 0)}
    assert_exact()


def test_reading_counts_once(org):
    warning = warning_delivered(org)
    assert services.mark_read(org.emp_a, as_seen_by(org.emp_a, warning)) is not None
    assert tally_of(warning, org.a) == (2, 1, 0, 0)
    services.mark_read(org.emp_a, as_seen_by(org.emp_a, warning))  # read already: no change
    assert tally_of(warning, org.a) == (2, 1, 0, 0)
    assert_exact()


def test_reading_by_the_page_and_the_api(org, client):
    warning = warning_delivered(org)
    client.force_login(org.emp_a)
    assert client.get(f"/warnings/{warning.pk}/").status_code == 200
    assert client_for(org.emp_b).get(f"/api/v1/warnings/{warning.pk}/").status_code == 200
    assert tally_of(warning, org.a) == (2, 1, 0, 0) and tally_of(warning, org.b) == (1, 1, 0, 0)
    assert_exact()


def test_acknowledging_on_time_and_late(org):
    recent = warning_delivered(org, ago=timedelta(days=1), title="近期")
    old = warning_delivered(org, ago=timedelta(days=5), title="早先")
    services.acknowledge(org.emp_a, recent)  # within three days: on time, and read
    services.acknowledge(org.emp_a, old)  # five days on: late
    assert tally_of(recent, org.a) == (2, 1, 1, 1)
    assert tally_of(old, org.a) == (2, 1, 1, 0)
    assert_exact()


def test_acknowledging_after_reading_does_not_count_the_reading_again(org):
    warning = warning_delivered(org)
    services.mark_read(org.emp_b, as_seen_by(org.emp_b, warning))
    services.acknowledge(org.emp_b, as_seen_by(org.emp_b, warning))
    assert tally_of(warning, org.b) == (1, 1, 1, 1)
    assert_exact()


@pytest.mark.parametrize(("after", "on_time"), [(WITHIN, 1), (WITHIN + timedelta(microseconds=1), 0)])
def test_on_time_ends_exactly_n_days_after_delivery(org, monkeypatch, after, on_time):
    warning = warning_delivered(org, ago=timedelta(days=10))
    delivered_at = Delivery.objects.get(warning=warning, employee__user=org.emp_c).delivered_at
    monkeypatch.setattr(timezone, "now", lambda: delivered_at + after)
    services.acknowledge(org.emp_c, warning)
    assert tally_of(warning, org.c) == (1, 1, 1, on_time)
    assert_exact()


def test_acknowledging_twice_counts_once(org):
    warning = warning_delivered(org)
    first = services.acknowledge(org.emp_a, warning)
    again = services.acknowledge(org.emp_a, as_seen_by(org.emp_a, warning))
    assert again.acknowledged_at == first.acknowledged_at
    assert again.read_at == first.read_at == Delivery.objects.get(pk=first.pk).read_at
    assert tally_of(warning, org.a) == (2, 1, 1, 1)
    assert_exact()


def test_delivering_again_counts_only_the_new_employees(org):
    warning = warning_delivered(org)
    services.acknowledge(org.emp_b, warning)
    EmployeeFactory(institution=org.b, name="新员工")
    assert services.fan_out(warning.pk) == 1
    assert tally_of(warning, org.b) == (2, 1, 1, 1)
    assert services.fan_out(warning.pk) == 0
    assert tally_of(warning, org.b) == (2, 1, 1, 1)
    assert_exact()


def test_rebuild_corrects_drift_and_removes_tallies_without_deliveries(org):
    warning = warning_delivered(org)
    other = warning_delivered(org, title="另一条")
    services.acknowledge(org.emp_a, warning)
    # Written past the services: a bulk update, a deleted employee (deliveries cascade), a bad row.
    Delivery.objects.filter(warning=warning, institution=org.c).update(read_at=timezone.now())
    Employee.objects.filter(user=org.emp_b).delete()
    DeliveryTally.objects.filter(warning=other, institution=org.a).update(delivered=99)
    assert tallies() != recount()
    assert services.rebuild_tallies([warning.pk]) == 2  # c corrected, b removed; `other` left alone
    assert (other.pk, org.a.pk) in tallies() and tally_of(other, org.a)[0] == 99
    assert (warning.pk, org.b.pk) not in tallies() and tally_of(warning, org.c) == (1, 1, 0, 0)
    assert services.rebuild_tallies() == 2  # other's a corrected, other's b removed
    assert_exact()
    assert services.rebuild_tallies() == 0  # exact: nothing to write
    assert services.rebuild_tallies([]) == 0


def test_rebuild_from_nothing_and_the_nightly_task(org):
    warning_delivered(org, ago=timedelta(days=5))
    services.acknowledge(org.emp_a, Warning.objects.get())
    DeliveryTally.objects.all().delete()
    assert tasks.rebuild_tallies.delay().get() == 3
    assert_exact()
    assert tasks.rebuild_tallies.delay().get() == 0
    assert "warnings_feed.rebuild_tallies" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


@pytest.mark.parametrize("write", ["acknowledge", "mark_read"])
def test_a_missing_tally_heals(org, write):
    warning = warning_delivered(org)
    services.acknowledge(org.emp_c, warning)
    DeliveryTally.objects.filter(warning=warning, institution=org.a).delete()
    if write == "acknowledge":
        services.acknowledge(org.emp_a, warning)
        assert tally_of(warning, org.a) == (2, 1, 1, 1)
    else:
        services.mark_read(org.emp_a, as_seen_by(org.emp_a, warning))
        assert tally_of(warning, org.a) == (2, 1, 0, 0)
    assert Delivery.objects.get(warning=warning, employee__user=org.emp_a).read_at is not None
    assert_exact()


def test_deleting_a_warning_deletes_its_tallies(org):
    warning = warning_delivered(org)
    warning.delete()
    assert not DeliveryTally.objects.exists()


def test_the_migrations_data_step_builds_the_tallies(org):
    warning_delivered(org, ago=timedelta(days=4))
    services.acknowledge(org.emp_a, Warning.objects.get())
    DeliveryTally.objects.all().delete()
    migration = importlib.import_module("warnings_feed.migrations.0003_deliverytally")

    class SchemaEditor:
        pass

    editor = SchemaEditor()
    editor.connection = connection
    migration.build_tallies(apps, editor)
    assert tallies() and tallies() == recount()


def test_demo_seed_leaves_the_tallies_exact():
    from institutions import demo as institutions_demo

    institutions_demo.seed_registry(employees_per_institution=3)
    seed_warnings()
    assert DeliveryTally.objects.filter(acknowledged__gt=0).exists()
    assert_exact()


def test_institutions_by_rate_lowest_first_then_by_id_and_paged(org):
    warning = warning_delivered(org)
    services.acknowledge(org.emp_a, warning)  # a 1/2, b 0/1, c 0/1
    ids = [warning.pk]
    count, rows = selectors.tally_sums_by_institution(ids, limit=10)
    assert count == 3
    # b and c both 0 %: by id; then a at 50 %.
    assert [(r["institution_id"], r["delivered"], r["acknowledged"]) for r in rows] == [
        (min(org.b.pk, org.c.pk), 1, 0), (max(org.b.pk, org.c.pk), 1, 0), (org.a.pk, 2, 1)]
    assert selectors.tally_sums_by_institution(ids, limit=1, offset=2)[1][0]["name"] == "甲银行"
    assert selectors.tally_sums_by_institution(ids, limit=10, offset=5) == (3, [])
    assert selectors.tally_sums_by_institution(ids, where=Q(institution__category="insurance"), limit=10)[0] == 1


# --- concurrency (PostgreSQL: SQLite runs one writing transaction at a time) ---------------------------

def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_concurrent_acknowledgements_in_one_institution_are_all_counted(org):
    second = employee_login(org.a, "emp_a2", "甲员工二")
    warning = warning_delivered(org)
    first_wrote, second_starts = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():  # holds the tally's row lock until the second one waits on it
                services.acknowledge(org.emp_a, warning)
                first_wrote.set()
                second_starts.wait(10)
                deadline = time.monotonic() + 5
                while not _waiting_on_a_lock() and time.monotonic() < deadline:
                    time.sleep(0.02)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def then_second() -> None:
        try:
            first_wrote.wait(10)
            second_starts.set()
            services.acknowledge(second, warning)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=then_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert tally_of(warning, org.a) == (3, 2, 2, 2)
    assert_exact()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_many_concurrent_readers_and_acknowledgers(org):
    people = [employee_login(org.a, f"emp_a{n}", f"甲员工{n}") for n in range(8)]
    warning = warning_delivered(org)
    start = threading.Barrier(len(people))
    errors: list[BaseException] = []

    def act(user, n: int) -> None:
        try:
            start.wait(10)
            if n % 2:
                services.mark_read(user, as_seen_by(user, warning))
            services.acknowledge(user, warning)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(user, n)) for n, user in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert tally_of(warning, org.a) == (10, 8, 8, 8)
    assert_exact()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("warning_ids", ["all", "one"])
def test_a_rebuild_during_an_acknowledgement_loses_nothing(org, warning_ids):
    warning = warning_delivered(org)
    acknowledged, rebuilding = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def acknowledging() -> None:
        try:
            with transaction.atomic():  # not committed until the rebuild waits for it
                services.acknowledge(org.emp_a, warning)
                acknowledged.set()
                rebuilding.wait(10)
                deadline = time.monotonic() + 5
                while not _waiting_on_a_lock() and time.monotonic() < deadline:
                    time.sleep(0.02)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def rebuild() -> None:
        try:
            acknowledged.wait(10)
            rebuilding.set()
            services.rebuild_tallies(None if warning_ids == "all" else [warning.pk])
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=acknowledging), threading.Thread(target=rebuild)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert tally_of(warning, org.a) == (2, 1, 1, 1)
    assert_exact()
