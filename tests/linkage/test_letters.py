"""The letters (结果运用函): generated on publication, their content, downloads from the page and the API,
the log of what went to whom, and who may fetch them."""

from __future__ import annotations

import io

import openpyxl
import pytest

from scoring import services
from scoring.models import LetterDispatch, LinkageLetter
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.scoring.factories import luqiao

from .conftest import YEAR, scored_year

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def letters_root(settings, tmp_path):
    settings.SCORING_LETTERS_ROOT = str(tmp_path / "letters")
    settings.SCORING_LETTER_EMAILS = {"fiscal_tender": ["czj@example.invalid"]}


def page_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def publish(finance, django_capture_on_commit_callbacks):
    dy = services.district_year(luqiao(), YEAR)
    with django_capture_on_commit_callbacks(execute=True):
        services.open_notice(dy, finance)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_year(services.district_year(luqiao(), YEAR), finance)
    return services.district_year(luqiao(), YEAR)


@pytest.fixture
def published(finance, django_capture_on_commit_callbacks):
    scored_year()
    return publish(finance, django_capture_on_commit_callbacks)


def test_publishing_produces_three_numbered_letters(published):
    letters = list(LinkageLetter.objects.order_by("serial"))
    assert [x.use for x in letters] == ["fiscal_tender", "party_building", "performance_appraisal"]
    assert [x.number for x in letters] == [f"路桥区清廉评价函〔{YEAR}〕{n}号" for n in (1, 2, 3)]
    assert letters[0].recipient == "区财政局" and all(x.institutions == 3 for x in letters)
    assert all(x.pdf.read(5) == b"%PDF-" for x in letters)


def test_the_xlsx_lists_every_institution_with_colour_total_rank_code_and_points(published):
    letter = LinkageLetter.objects.get(use="performance_appraisal")
    ws = openpyxl.load_workbook(io.BytesIO(letter.xlsx.read())).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == letter.number
    assert rows[2] == ("排名", "机构编码", "机构名称", "类别", "颜色", "触碰红线", "总分", "运用意见", "代码", "加减分")
    body = {r[1]: r for r in rows[3:]}
    assert body["G001"][:1] == (1,) and body["G001"][4] == "绿" and body["G001"][7:] == ("考评加分", "bonus", "+2.00")
    assert body["R001"][5] == "是" and body["R001"][7:] == ("一票否决（不得评优）", "veto", "-10.00")
    assert body["R001"][0] == 3


def test_the_pdf_says_the_number_the_recipient_and_the_institutions(published):
    from pypdf import PdfReader

    from scoring import letters

    letter = LinkageLetter.objects.get(use="party_building")
    assert len(PdfReader(io.BytesIO(letter.pdf.read())).pages) >= 1
    # The PDF's CJK text is subset without a text map; its source says what it shows.
    html = letters.render_html(letter, letters.letter_rows(letter.district, YEAR, "party_building"))
    assert letter.number in html and "区委组织部（区金融工委）：" in html and "党建星级评定" in html
    assert 'counter(page) " 页 共 " counter(pages)' in html  # numbered pages
    assert html.index("机构G001") < html.index("机构U001") < html.index("机构R001")
    assert "一票否决" in html and "-5.00" in html and "+2.00" in html


def test_letters_are_mailed_with_the_pdf_and_xlsx_attached_and_logged(published, mailoutbox):
    from notifications import services as notifications
    from notifications.models import Message
    from scoring import letters

    letter = LinkageLetter.objects.get(use="fiscal_tender")
    queued = Message.objects.get(kind="scoring.letter_mail")
    assert (queued.channel, queued.recipient) == ("email", "czj@example.invalid")
    assert letter.number in queued.subject and "区财政局：" in queued.body and "见附件" in queued.body
    notifications.send_due()  # (the commit's kick has sent it already, eagerly)
    [mail] = [m for m in mailoutbox if letter.number in m.subject]
    assert mail.to == ["czj@example.invalid"] and "共 3 家机构" in mail.body
    files = {name: (content, mimetype) for name, content, mimetype in mail.attachments}
    letter.pdf.open("rb")
    letter.xlsx.open("rb")
    assert files == {
        letters.file_name(letter, "pdf"): (letter.pdf.read(), "application/pdf"),
        letters.file_name(letter, "xlsx"): (letter.xlsx.read(),
                                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    assert files[letters.file_name(letter, "pdf")][0].startswith(b"%PDF-")
    # once sent, the outbox keeps the files' names, not their contents
    queued.refresh_from_db()
    assert queued.status == "sent" and [a["name"] for a in queued.attachments] == list(files)
    assert all("content" not in a for a in queued.attachments)
    # the other uses' mailboxes are not configured: nothing mailed for them
    assert Message.objects.filter(kind="scoring.letter_mail").count() == 1
    log = LetterDispatch.objects.get(channel="email")
    assert (log.letter, log.recipient, log.number) == (letter, "czj@example.invalid", letter.number)


def test_generation_is_idempotent_and_a_republication_renumbers(published, finance,
                                                                django_capture_on_commit_callbacks):
    services.generate_letters(luqiao().pk, YEAR)
    from notifications.models import Message

    assert LinkageLetter.objects.count() == 3 and Message.objects.filter(kind="scoring.letter_mail").count() == 1
    services.reopen_year(services.district_year(luqiao(), YEAR), finance, "更正")
    assert services.generate_letters(luqiao().pk, YEAR) == []  # not published: nothing made
    services.execute_run(services.start_aggregation(YEAR, luqiao(), finance).pk)
    publish(finance, django_capture_on_commit_callbacks)
    assert sorted(LinkageLetter.objects.values_list("serial", flat=True)) == [4, 5, 6]


def test_download_from_the_year_page_and_the_api_is_logged(published, finance):
    page = page_client(finance).get(f"/scoring/years/{YEAR}/?district=331004")
    assert page.status_code == 200
    html = page.content.decode()
    assert "结果运用函" in html and f"路桥区清廉评价函〔{YEAR}〕1号" in html
    response = page_client(finance).get(f"/scoring/years/{YEAR}/letters/party_building.pdf?district=331004")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    api = client_for(finance).get(f"/api/v1/years/{YEAR}/letters/").json()
    assert [x["use"] for x in api["results"]] == ["fiscal_tender", "party_building", "performance_appraisal"]
    xlsx = client_for(finance).get(api["results"][2]["files"]["xlsx"])
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"
    logged = list(LetterDispatch.objects.filter(by=finance).values_list("channel", "file_format"))
    assert sorted(logged) == [("api", "xlsx"), ("download", "pdf")]


def test_other_districts_and_institutions_get_404_or_403(published):
    jiaojiang = UserFactory(username="fc_jj", roles=["finance_center"], roles__districts=["331002"])
    assert client_for(jiaojiang).get(f"/api/v1/years/{YEAR}/letters/?district=331004").status_code == 404
    assert client_for(jiaojiang).get(
        f"/api/v1/years/{YEAR}/letters/fiscal_tender/pdf/?district=331004").status_code == 404
    assert page_client(jiaojiang).get(
        f"/scoring/years/{YEAR}/letters/fiscal_tender.pdf?district=331004").status_code == 404
    assert client_for(jiaojiang).get(f"/api/v1/years/{YEAR}/letters/").json()["results"] == []
    filer = UserFactory(username="plain_user")
    assert client_for(filer).get(f"/api/v1/years/{YEAR}/letters/").status_code == 403
    assert LetterDispatch.objects.exclude(channel="email").count() == 0


def test_unknown_use_or_format_is_404(published, finance):
    assert client_for(finance).get(f"/api/v1/years/{YEAR}/letters/bogus/pdf/").status_code == 404
    assert client_for(finance).get(f"/api/v1/years/{YEAR}/letters/fiscal_tender/doc/").status_code == 404
    assert client_for(finance).get(f"/api/v1/years/{YEAR + 1}/letters/").json()["results"] == []
