"""The programme's admin pages (tracked items, inspections, activities): read-only, for the finance
center of the rows' districts only; another district's row is a 404, nothing can be added, changed or
deleted by hand, and a list's queries do not grow with its rows."""

import datetime as dt
from decimal import Decimal

import pytest

from activities.models import Activity, ActivityKind, Campaign, Notice, TrainingSession
from inspections.models import Finding, Plan, Visit
from institutions.models import District
from tests.factories import InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import build_scheme
from tracking import services as tracking
from tracking.models import TrackedItem

pytestmark = pytest.mark.django_db
YEAR = 2026


def _rows(inst, scheme, n=1):
    """One row of every model for `inst` (n of each institution-owned one)."""
    from activities import services as activity_services

    activity_services.ensure_catalogue(inst.district_id)
    kind = ActivityKind.objects.filter(district=inst.district).order_by("pk").first()
    clause = scheme.norms.clauses.order_by("pk").first()
    out = {}
    for i in range(n):
        item = tracking.create_item(institution=inst, kind=TrackedItem.Kind.FINDING, title=f"整改事项{i}",
                                    start=dt.date(YEAR, 3, 2), working_days=5)
        visit = Visit.objects.create(institution=inst, district_id=inst.district_id, visited_on=dt.date(YEAR, 3, 2))
        finding = Finding.objects.create(visit=visit, institution=inst, district_id=inst.district_id, year=YEAR,
                                         clause=clause, clause_number=clause.number, severity="minor",
                                         description=f"问题{i}", rectify_within=5, tracked_item=item)
        activity = Activity.objects.create(institution=inst, kind=kind, title=f"活动{i}", held_on=dt.date(YEAR, 4, 1),
                                           year=YEAR)
        training = TrainingSession.objects.create(institution=inst, title=f"培训{i}", held_on=dt.date(YEAR, 4, 2),
                                                  year=YEAR, hours=Decimal("2.0"))
        out.update(trackeditem=item, visit=visit, finding=finding, activity=activity, trainingsession=training)
    out["plan"] = Plan.objects.get_or_create(district_id=inst.district_id, year=YEAR)[0]
    out["campaign"] = Campaign.objects.create(district_id=inst.district_id, kind="governance", title="专项行动",
                                              starts_on=dt.date(YEAR, 5, 1), ends_on=dt.date(YEAR, 6, 1))
    out["notice"] = Notice.objects.create(district_id=inst.district_id, title="通知", body="正文")
    return out


APPS = {"trackeditem": "tracking", "visit": "inspections", "finding": "inspections", "plan": "inspections",
        "activity": "activities", "trainingsession": "activities", "campaign": "activities", "notice": "activities"}


@pytest.fixture
def world():
    scheme = build_scheme(YEAR)
    own = InstitutionFactory(code="PA01", name="甲银行")
    other = InstitutionFactory(code="PC01", name="丙银行", district=District.objects.get(code="331002"))
    fc = UserFactory(username="fc-admin", roles=["finance_center"], is_staff=True)
    return {"scheme": scheme, "own": own, "other": other, "fc": fc,
            "mine": _rows(own, scheme), "theirs": _rows(other, scheme)}


def _url(model, suffix=""):
    return f"/admin/{APPS[model]}/{model}/{suffix}"


@pytest.mark.parametrize("model", list(APPS))
def test_the_finance_center_reads_its_own_districts_rows_only(client, world, model):
    client.force_login(world["fc"])
    listing = client.get(_url(model))
    assert listing.status_code == 200
    shown = {obj.pk for obj in listing.context["cl"].result_list}
    assert shown == {world["mine"][model].pk}
    assert client.get(_url(model, f"{world['mine'][model].pk}/change/")).status_code == 200
    assert client.get(_url(model, f"{world['theirs'][model].pk}/change/")).status_code == 404
    assert client.get(_url(model, f"{world['theirs'][model].pk}/history/")).status_code == 404


@pytest.mark.parametrize("model", list(APPS))
def test_nothing_is_added_changed_or_deleted_by_hand(client, world, model):
    client.force_login(world["fc"])
    row = world["mine"][model]
    cls = type(row)
    before = list(cls.objects.order_by("pk").values())
    assert client.get(_url(model, "add/")).status_code == 403
    assert client.post(_url(model, "add/"), {"title": "手工"}).status_code == 403
    page = client.get(_url(model, f"{row.pk}/change/"))
    assert b'name="_save"' not in page.content  # a view, not a form
    assert client.post(_url(model, f"{row.pk}/change/"), {"title": "改过"}).status_code == 403
    assert client.post(_url(model, f"{row.pk}/delete/"), {"post": "yes"}).status_code == 403
    assert client.post(_url(model), {"action": "delete_selected", "_selected_action": [row.pk],
                                     "post": "yes"}).status_code in (200, 302)
    assert list(cls.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("model", list(APPS))
def test_institution_staff_and_other_roles_do_not_reach_them(client, world, model):
    filer = institution_user(world["own"], "institution_filer", username="filer-admin")
    filer.is_staff = True
    filer.save()
    inspector = UserFactory(username="insp-admin", roles=["inspector"], is_staff=True)
    district_owned = model in ("plan", "campaign", "notice")
    # A filer's own institution's row: 403 (they know it exists); anything outside their scope: 404, as
    # elsewhere in the admin (nothing said about whether it exists).
    for user, expected in ((filer, 404 if district_owned else 403), (inspector, 404)):
        client.force_login(user)
        assert client.get(_url(model)).status_code == 403
        assert client.get(_url(model, f"{world['mine'][model].pk}/change/")).status_code == expected


@pytest.mark.parametrize("model", ["trackeditem", "visit", "finding", "activity", "trainingsession"])
def test_a_lists_queries_do_not_grow_with_its_rows(client, world, model, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world["fc"])
    with CaptureQueriesContext(connection) as small:
        assert client.get(_url(model)).status_code == 200
    for n in range(3):
        _rows(InstitutionFactory(code=f"PB0{n}"), world["scheme"], n=4)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(_url(model))
    assert response.status_code == 200 and response.context["cl"].result_count == 13


def test_the_finance_center_sees_the_inlines(client, world):
    """The inlines (a visit's findings, a plan's entries, a tracked item's events) are the finance
    center's too, not only the superuser's (no model permissions are granted for these apps)."""
    from inspections.models import PlanEntry

    client.force_login(world["fc"])
    mine = world["mine"]
    PlanEntry.objects.create(plan=mine["plan"], institution=world["own"], month=5, team="第一检查组")
    Visit.objects.filter(pk=mine["visit"].pk).update(team=["李慧", "周明"])
    page = client.get(_url("visit", f"{mine['visit'].pk}/change/"))
    assert "问题0" in page.content.decode() and len(page.context["inline_admin_formsets"]) == 1
    assert "李慧、周明" in page.content.decode() and "[&quot;" not in page.content.decode()
    page = client.get(_url("plan", f"{mine['plan'].pk}/change/"))
    assert "第一检查组" in page.content.decode()
    page = client.get(_url("trackeditem", f"{mine['trackeditem'].pk}/change/"))
    assert len(page.context["inline_admin_formsets"]) == 1
    assert mine["trackeditem"].events.exists()
    events = page.context["inline_admin_formsets"][0].formset.queryset
    assert set(events) == set(mine["trackeditem"].events.all())
