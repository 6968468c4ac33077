"""Self-chosen actions (X) and showcases (样板)."""

import pytest

from activities import selectors
from activities.models import SelfChosenAction

from .conftest import YEAR, client_for

pytestmark = pytest.mark.django_db


def _register(w, client=None, **extra):
    data = {"year": YEAR, "title": "清廉金融 阳光信贷", "goals": "梳理客户经理岗位廉政风险点", "status": "done",
            "results": "违规人次下降50%", "clauses": [w.clauses["1.2"].pk], **extra}
    return (client or client_for(w.filer)).post("/activities/actions/", data)


def test_register_and_showcase_cycle(w):
    assert _register(w).status_code == 302
    action = SelfChosenAction.objects.get()
    url = f"/activities/actions/{action.pk}/showcase/"
    # The filer cannot mark its own action; another district's finance center does not see it.
    assert client_for(w.filer).post(url, {"on": "1"}).status_code == 302
    assert client_for(w.fc_c).post(url, {"on": "1"}).status_code == 404
    action.refresh_from_db()
    assert not action.is_showcase
    assert client_for(w.fc).post(url, {"on": "1", "note": "全区推广"}).status_code == 302
    action.refresh_from_db()
    assert action.is_showcase and action.showcase_note == "全区推广" and action.showcase_by == w.fc
    again = client_for(w.fc).post(url, {"on": "1"}, follow=True)
    assert "已是样板" in again.content.decode()
    assert selectors.showcase_institution_ids(w.a.district_id, YEAR) == {w.a.pk}
    assert client_for(w.filer_b).get("/activities/showcases/?year=1999").status_code == 200
    page = client_for(w.filer_b).get("/activities/showcases/").content.decode()
    assert "清廉金融 阳光信贷" in page and "甲银行" in page
    assert "清廉金融 阳光信贷" not in client_for(w.filer_c).get("/activities/showcases/").content.decode()
    assert client_for(w.fc).post(url, {"on": "0"}).status_code == 302
    action.refresh_from_db()
    assert not action.is_showcase and action.showcase_at is None


def test_bad_action_is_refused(w):
    assert _register(w, goals="").status_code == 400
    assert _register(w, year=1999).status_code == 400
    assert _register(w, status="bogus").status_code == 400
    assert _register(w, client=client_for(w.fc)).status_code == 403
    assert not SelfChosenAction.objects.exists()


def test_edit_an_action(w):
    _register(w)
    action = SelfChosenAction.objects.get()
    url = f"/activities/actions/{action.pk}/edit/"
    r = client_for(w.filer).post(url, {"year": YEAR, "title": "阳光信贷2.0", "goals": "新目标", "status": "done"})
    assert r.status_code == 302
    action.refresh_from_db()
    assert action.title == "阳光信贷2.0" and not action.clauses.exists()
    assert client_for(w.fc).get(url).status_code == 403
    assert client_for(w.filer_b).get(url).status_code == 404
    client_for(w.fc).post(f"/activities/actions/{action.pk}/showcase/", {"on": "1"})
    r = client_for(w.filer).post(url, {"year": YEAR + 1, "title": "阳光信贷2.0", "goals": "新目标", "status": "done"})
    assert r.status_code == 400
    action.refresh_from_db()
    assert action.year == YEAR


def test_saving_an_action_opened_before_it_became_a_showcase_keeps_the_award(w):
    """(Review finding: the edit saved every field of the object it had read, so a showcase awarded in
    the meantime was undone.)"""
    from activities import services

    assert _register(w).status_code == 302
    opened = SelfChosenAction.objects.get()  # the filer's edit page, read before the award
    services.mark_showcase(w.fc, SelfChosenAction.objects.get(pk=opened.pk), True, "全区推广")

    def edit(year):
        return services.save_action(w.filer, w.a, services.ActionInput(
            year=year, title="清廉金融 阳光信贷（修订）", goals="梳理岗位风险点", status="done",
            clause_ids=[w.clauses["1.2"].pk] if year == YEAR else []), action=opened)

    with pytest.raises(services.StateConflict, match="不能更改年度"):
        edit(YEAR + 1)
    saved = edit(YEAR)
    saved.refresh_from_db()
    assert saved.title == "清廉金融 阳光信贷（修订）"
    assert saved.is_showcase and saved.showcase_note == "全区推广" and saved.showcase_by == w.fc
