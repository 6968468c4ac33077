import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import EmployeeFactory
from warnings_feed import services
from warnings_feed.models import Delivery, Warning

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client, url) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


# --- the employees' feed --------------------------------------------------------------------------

def test_feed_page_shows_unread_warning_in_chinese(org, publish):
    warning = publish(org.finance, title="关于员工黄小明酒驾的通报")
    html = page(browser(org.emp_a), "/warnings/")
    assert "警示信息" in html and "1 条未读" in html and "未读" in html
    assert "关于员工黄某酒驾的通报" in html and "黄小明" not in html
    assert f'href="/warnings/{warning.pk}/"' in html
    assert 'name="viewport"' in html


def test_opening_marks_read_and_offers_acknowledge(org, publish):
    warning = publish(org.finance)
    client = browser(org.emp_a)
    html = page(client, f"/warnings/{warning.pk}/")
    assert "已阅知悉" in html and f'action="/warnings/{warning.pk}/acknowledge/"' in html
    assert 'method="post"' in html  # a plain form: works without JavaScript
    assert Delivery.objects.get(warning=warning, employee__user=org.emp_a).read_at is not None
    assert "条未读" not in page(client, "/warnings/")


def test_acknowledge_by_form(org, publish):
    warning = publish(org.finance)
    client = browser(org.emp_a)
    assert client.get(f"/warnings/{warning.pk}/acknowledge/").status_code == 405
    resp = client.post(f"/warnings/{warning.pk}/acknowledge/", follow=True)
    assert resp.redirect_chain[-1][0] == "/warnings/"
    html = resp.content.decode()
    assert "已确认知悉" in html and "已知悉" in html
    delivery = Delivery.objects.get(warning=warning, employee__user=org.emp_a)
    assert delivery.acknowledged_at and delivery.read_at
    assert "您已于" in page(client, f"/warnings/{warning.pk}/")


def test_acknowledge_needs_csrf(org, publish):
    warning = publish(org.finance)
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.emp_a)
    assert client.post(f"/warnings/{warning.pk}/acknowledge/").status_code == 403
    assert not Delivery.objects.filter(acknowledged_at__isnull=False).exists()


def test_other_institutions_employee_never_sees_it_on_the_page(org, publish):
    warning = publish(org.finance, scope="institution", institution_code="A001", title="甲银行内部警示")
    client = browser(org.emp_b)
    assert "甲银行内部警示" not in page(client, "/warnings/")
    assert client.get(f"/warnings/{warning.pk}/").status_code == 404
    assert client.post(f"/warnings/{warning.pk}/acknowledge/").status_code == 404
    assert client.get(f"/warnings/manage/{warning.pk}/").status_code == 403
    assert "甲银行内部警示" in page(browser(org.emp_a), "/warnings/")


def test_feed_page_requires_login(client):
    resp = client.get("/warnings/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")


def test_pages_have_no_inline_script(org, publish):
    warning = publish(org.finance)
    for url in ("/warnings/", f"/warnings/{warning.pk}/"):
        html = page(browser(org.emp_a), url)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert not re.search(r"<[^>]+\son[a-z]+=", html)  # no inline event handlers either


def test_feed_page_uses_a_constant_number_of_queries(org, publish, django_assert_max_num_queries):
    def count() -> int:
        client = browser(get_user_model().objects.get(pk=org.emp_a.pk))
        client.get("/warnings/")  # the session's first request
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/warnings/").status_code == 200
        return len(queries)

    publish(org.finance, title="一")
    few = count()
    for n in range(15):
        publish(org.finance, title=f"警示{n}", names=["黄小明"], scope="category" if n % 2 else "district",
                category="bank" if n % 2 else "")
    assert count() == few
    client = browser(org.emp_a)
    # session, user, employee, roles (3: district grants, groups, memberships), count, page, unread
    # count, the registry's names for the masking (one for the page), session save (3 with savepoints)
    with django_assert_max_num_queries(13):
        client.get("/warnings/")


# --- heads: publish to own staff, see who has not acknowledged ------------------------------------

def test_head_publishes_to_own_staff_from_the_page(org, django_capture_on_commit_callbacks):
    client = browser(org.head_a)
    html = page(client, "/warnings/manage/")
    assert "向本机构员工发布警示信息" in html and "甲银行" in html and "乙保险" not in html
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/warnings/manage/", {"title": "营业纪律提醒", "body": "请员工黄小明等人注意。",
                                                 "case_type": "misconduct", "severity": "low",
                                                 "scope": "institution", "institution": "A001", "names": "黄小明"})
    warning = Warning.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/warnings/manage/{warning.pk}/"
    assert warning.institution == org.a and warning.scope == "institution" and warning.publisher == org.head_a
    assert set(Delivery.objects.values_list("employee__name", flat=True)) == {"甲员工", "甲同事"}


def test_head_cannot_publish_to_another_institution_from_the_page(org):
    resp = browser(org.head_a).post("/warnings/manage/", {
        "title": "越权", "body": "越权", "case_type": "other", "severity": "low", "scope": "district",
        "institution": "B001"})
    assert resp.status_code == 400
    assert not Warning.objects.exists()


def test_head_sees_who_has_not_acknowledged_in_own_institution(org, publish):
    warning = publish(org.finance)
    browser(org.emp_a).post(f"/warnings/{warning.pk}/acknowledge/")
    html = page(browser(org.head_a), f"/warnings/manage/{warning.pk}/")
    assert "甲同事" in html  # not acknowledged
    assert "甲员工" not in html  # acknowledged
    assert "乙员工" not in html and "丙员工" not in html  # other institutions' staff
    assert "50.0%" in html
    finance = page(browser(org.finance), f"/warnings/manage/{warning.pk}/")
    assert "甲同事" in finance and "乙员工" in finance and "丙员工" in finance


def test_head_cannot_follow_another_institutions_warning(org, publish):
    theirs = publish(org.finance, scope="institution", institution_code="B001")
    assert browser(org.head_a).get(f"/warnings/manage/{theirs.pk}/").status_code == 404


def test_manage_page_is_for_heads_and_the_finance_center(org):
    assert browser(org.emp_a).get("/warnings/manage/").status_code == 403
    assert browser(org.finance).get("/warnings/manage/").status_code == 200


def test_manage_page_uses_a_constant_number_of_queries(org, publish):
    def count(user) -> int:
        client = browser(get_user_model().objects.get(pk=user.pk))
        client.get("/warnings/manage/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/warnings/manage/").status_code == 200
        return len(queries)

    warning = publish(org.finance)
    few = (count(org.head_a), count(org.finance))
    for n in range(10):
        publish(org.finance, title=f"警示{n}", scope="institution", institution_code="A001")
    assert (count(org.head_a), count(org.finance)) == few
    client = browser(org.head_a)
    client.get(f"/warnings/manage/{warning.pk}/")
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/warnings/manage/{warning.pk}/")
    for n in range(30):
        EmployeeFactory(institution=org.a, name=f"新员工{n}")
    services.fan_out(warning.pk)
    with CaptureQueriesContext(connection) as more:
        assert "新员工29" in client.get(f"/warnings/manage/{warning.pk}/").content.decode()
    assert len(more) == len(queries) <= 14


# --- public page and Atom feed --------------------------------------------------------------------

def test_public_page_and_atom_feed_show_public_warnings_masked(org, client, publish):
    public = publish(org.finance, is_public=True, title="员工黄小明酒驾被查处")
    publish(org.finance, title="内部警示信息", scope="institution", institution_code="A001")
    html = page(client, "/public/warnings/")
    assert "员工黄某酒驾被查处" in html and "内部警示信息" not in html and "黄小明" not in html
    assert "员工黄某酒驾被查处" in page(client, f"/public/warnings/{public.pk}/")
    resp = client.get("/public/warnings/feed.atom")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/atom+xml")
    atom = resp.content.decode()
    assert "<feed" in atom and "员工黄某酒驾被查处" in atom
    assert "黄小明" not in atom and "内部警示信息" not in atom


def test_internal_warning_has_no_public_page(org, client, publish):
    internal = publish(org.finance)
    assert client.get(f"/public/warnings/{internal.pk}/").status_code == 404
