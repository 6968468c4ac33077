import datetime as dt

from activities import services
from activities.models import Activity, ActivityKind

from .conftest import client_for


def test_filer_records_activity_and_pages_render(w):
    services.ensure_catalogue(w.a.district_id)
    kind = ActivityKind.objects.filter(district=w.a.district).first()
    client = client_for(w.filer)
    r = client.post("/activities/ledger/new/", {
        "kind": kind.pk, "title": "警示教育展", "held_on": "2026-03-05", "participants": [w.emps[0].pk],
        "clauses": [w.clauses["1.1"].pk]})
    assert r.status_code == 302, r.content.decode()[:2000]
    activity = Activity.objects.get()
    for url in ["/activities/", "/activities/ledger/", f"/activities/ledger/{activity.pk}/", "/activities/trainings/",
                "/activities/actions/", "/activities/showcases/", "/activities/notices/", "/activities/campaigns/",
                "/activities/archives/", "/activities/calendar/", "/activities/ledger/export.xlsx"]:
        assert client.get(url).status_code == 200, url
        assert client_for(w.fc).get(url).status_code == 200, url
    assert client_for(w.filer_b).get(f"/activities/ledger/{activity.pk}/").status_code == 404
    assert client_for(w.fc_c).get(f"/activities/ledger/{activity.pk}/").status_code == 404
    assert dt.date(2026, 3, 5) == activity.held_on
