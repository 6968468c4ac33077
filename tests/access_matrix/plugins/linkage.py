"""Letters of a published year (结果运用函): the finance center of the district only; nobody else.
The notification outbox and preferences: the administrator only."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.utils import timezone

from ..table import AdminModel, R, admin_routes, by_code, district_route, g, inst, plain, public
from ..world import JIAOJIANG, LUQIAO, PUBLISHED


def build(w) -> None:
    from institutions.models import District
    from scoring.models import LinkageLetter

    for target, code in (("A", LUQIAO), ("C", JIAOJIANG)):
        district = District.objects.get(code=code)
        letter = LinkageLetter.objects.filter(district=district, year=PUBLISHED, use="fiscal_tender").first()
        if letter is None:
            letter = LinkageLetter(district=district, year=PUBLISHED, use="fiscal_tender", serial=99,
                                   number=f"矩阵函〔{PUBLISHED}〕{code}", recipient="区财政局",
                                   published_at=timezone.now())
            letter.pdf.save("matrix.pdf", ContentFile(b"%PDF-1.4 matrix"), save=False)
            letter.xlsx.save("matrix.xlsx", ContentFile(b"PK matrix"), save=False)
            letter.save()
        w.objs.setdefault("linkageletter", {})[target] = letter

    from notifications.models import Message, Preference

    w.objs["notifymessage"] = {"-": Message.objects.create(key="matrix", kind="matrix", channel="sms",
                                                           recipient="13800000000", subject="矩阵", body="矩阵")}
    w.objs["notifypreference"] = {"-": Preference.objects.create(institution=w.inst["A"], channels=["email"])}


FINANCE = g("- C", "no", fc="ok nf", su="pick ok")

# The outbox of messages (phone numbers, robot addresses of every district) and the preferences (robot
# secrets): the installation administrator's only.
ADMIN_MODELS = {
    "notifications_message": AdminModel("notifymessage", "-", su="v"),
    "notifications_preference": AdminModel("notifypreference", "-", su="vacd"),
}

TABLE: dict[str, R] = {
    "api:letter-list": R(district_route(year=PUBLISHED), get=FINANCE),
    "api:letter-file": R(district_route(year=PUBLISHED, use="fiscal_tender", fmt="pdf"), get=FINANCE),
    # The district's package for the city: its finance center (published years only); the schema is public.
    "api:district-package": R(district_route(year=PUBLISHED), get=FINANCE),
    "api:district-package-xlsx": R(district_route(year=PUBLISHED), get=FINANCE),
    "api:district-package-schema": R(plain(), get=public(), public=True),
    # The city page of the exchange (index with the city's weights, package upload): city users.
    "scoring:city-exchange": R(plain(), get=g("-", "no", city="ok")),
    "scoring:city-weights": R(plain(), post=g("-", "no", city="ok"), body={}),
    "scoring:city-import": R(plain(), post=g("-", "no", city="ok"), body={}),
    # 消息与推送: everyone signed in has their own channels; an institution's robots belong to its heads,
    # its questionnaire push to its filers and heads (another institution's: 404).
    "notifications:overview": R(plain(), get=g("-", "ok")),
    "notifications:save-mine": R(plain(), post=g("-", "ok"), body={}),
    "notifications:save-institution": R(by_code(), post=g("A B C", "nf", head="ok nf nf", su="nf"), body={}),
    "notifications:push-upload": R(plain(), post=g("A B C", "nf", inst="ok nf nf", su="nf"),
                                   body=lambda w, t: {"institution": inst(w, t).code}),
    "scoring:letter-file": R(district_route(year=PUBLISHED, use="fiscal_tender", fmt="pdf"),
                             get=g("- C", "no", fc="ok nf", su="choose ok")),
}
for _name, _model in ADMIN_MODELS.items():
    TABLE.update(admin_routes(_name, _model))
