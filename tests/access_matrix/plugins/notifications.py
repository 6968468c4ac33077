"""消息与推送: a district's finance-center channels (its own robots, duty phone, mailbox) are edited by
that district's finance center only (another district's, or anyone else: 404); the administrator
edits every district's, also in the admin (the model holds robot secrets)."""

from __future__ import annotations

from django.urls import reverse

from ..table import AdminModel, R, admin_routes, district_code, g


def build(w) -> None:
    from institutions.models import District
    from notifications.models import DistrictChannels

    row, _ = DistrictChannels.objects.get_or_create(district=District.objects.get(code=district_code("C")))
    w.objs["districtchannels"] = {"-": row}


ADMIN_MODELS = {
    "notifications_districtchannels": AdminModel("districtchannels", "-", su="vacd"),
}

TABLE: dict[str, R] = {
    # Targets A / C: 路桥's and 椒江's channels (the code in the path).
    "notifications:save-district": R(lambda w, key, t: reverse(key, kwargs={"code": district_code(t)}),
                                     post=g("A C", "nf", fc="ok nf", su="ok"), body={}),
}
for _name, _model in ADMIN_MODELS.items():
    TABLE.update(admin_routes(_name, _model))
