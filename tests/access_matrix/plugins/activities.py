"""The matrix's part for activities (年度活动、培训、通知与报送、档案).

Users of the app: the finance center (its districts) and the institutions' filers and heads (their own
institution); every other role is refused before any object counts (403). Targets: A = the filer's
institution, B = another institution of 路桥, C = 椒江's. Families (w.objs):
  act.activity / act.file / act.training / act.action (A and C showcases) / act.campaign /
  act.notice (a notice to that institution alone, with an attachment) / act.attachment /
  act.receipt (its receipt, returned with a file) / act.archive (a finished archive of the institution).
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ..table import AdminModel, R, admin_routes, by, g, obj, plain, public
from ..world import OPEN, PDF

TARGETS = "A B C"
APP = dict(fc="ok", inst="ok")  # targets "-": the app's users
OWN = dict(fc="ok ok nf", inst="ok nf nf")  # an object of A / B / C
WRITE_OWN = dict(fc="refused refused nf", inst="ok nf nf")  # the institution writes, the finance center may not
DECIDE = dict(fc="ok ok nf", inst="refused nf nf")  # the finance center decides, the institution may not
EDIT = dict(fc="deny deny nf", inst="ok nf nf", su="deny")  # the institution's own edit pages


def build(w) -> None:
    from activities import services
    from activities.models import ArchiveJob, ArchiveStatus

    # Files of this part go to a temporary folder: set inside the matrix's own settings override, so it
    # ends with the module.
    settings.ACTIVITIES_FILES_ROOT = tempfile.mkdtemp(prefix="mx-activities-")
    filers = {"A": w.users["filer"], "B": _member(w.inst["B"]), "C": _member(w.inst["C"])}
    fc = {"A": w.users["fc"], "B": w.users["fc"], "C": _finance(w.inst["C"])}
    activities, files, trainings, actions, campaigns, notices, attachments, receipts, archives = (
        {} for _ in range(9))
    for t, inst in w.inst.items():
        services.ensure_catalogue(inst.district_id)
        clause = services.clauses_for(inst.district_id, OPEN).filter(number="1.1").first()
        kind = inst.district.activity_kinds.order_by("position", "pk").first()
        activities[t] = services.record_activity(filers[t], inst, services.ActivityInput(
            kind_id=kind.pk, title=f"矩阵活动{t}", held_on=dt.date(OPEN, 3, 1), participant_count=5,
            clause_ids=[clause.pk] if clause else []))
        files[t] = services.add_activity_files(filers[t], activities[t],
                                               [SimpleUploadedFile(f"材料{t}.pdf", PDF)], "material")[0]
        trainings[t] = services.record_training(filers[t], inst, services.TrainingInput(
            title=f"矩阵培训{t}", held_on=dt.date(OPEN, 4, 1), hours=2))
        actions[t] = services.save_action(filers[t], inst, services.ActionInput(
            year=OPEN, title=f"矩阵自选动作{t}", goals="目标"))
        if t != "B":  # the showcase page is the district's: B's own action stays unmarked
            services.mark_showcase(fc[t], actions[t], True, "样板")
        campaigns[t] = services.create_campaign(fc[t], services.CampaignInput(
            title=f"矩阵专项{t}", kind="governance", starts_on=dt.date(OPEN, 1, 1), ends_on=dt.date(OPEN, 12, 31),
            district_code=inst.district.code))
        notices[t] = services.publish_notice(fc[t], services.NoticeInput(
            title=f"矩阵通知{t}", body="正文", audience="institutions", institution_codes=[inst.code],
            return_kind="file", return_within=5, district_code=inst.district.code),
            [SimpleUploadedFile(f"附件{t}.pdf", PDF)])
        attachments[t] = notices[t].attachments.get()
        receipt = notices[t].recipients.get()
        receipts[t] = services.submit_return(filers[t], receipt, "", SimpleUploadedFile(f"报送{t}.pdf", PDF))
        job = ArchiveJob.objects.create(district_id=inst.district_id, institution=inst, year=OPEN,
                                        status=ArchiveStatus.DONE, progress=100, created_by=fc[t])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("index.xlsx", b"")
        job.file.save(f"mx-{t}.zip", ContentFile(buffer.getvalue()))
        archives[t] = job
    for family, objects in (("activity", activities), ("file", files), ("training", trainings),
                            ("action", actions), ("campaign", campaigns), ("notice", notices),
                            ("attachment", attachments), ("receipt", receipts), ("archive", archives)):
        w.objs[f"act.{family}"] = objects
    w.extra["act.calendar_token"] = _calendar_token(w.users["filer"], w.inst["A"].district_id)


def _member(inst):
    from institutions.models import Membership

    return Membership.objects.filter(institution=inst, role="institution_filer").order_by("pk").first().user


def _finance(inst):
    from institutions.models import DistrictGrant

    return DistrictGrant.objects.filter(district=inst.district, role="finance_center").order_by("pk").first().user


def _calendar_token(user, district_id):
    from django.core import signing

    from activities.views import FEED_SALT

    return signing.dumps({"u": user.pk, "d": district_id}, salt=FEED_SALT)


def _same_target(family: str, **fixed):
    """A body naming the target's own object of `family` (the evidence picker)."""
    return lambda w, t: {"object_id": obj(w, f"act.{family}", t).pk, **fixed}


def _institution_body(w, t):
    return {"year": OPEN, "institution": w.inst[t].code}


def _decide(decision):
    return lambda w, key, t: reverse(key, kwargs={"pk": obj(w, "act.receipt", t).pk, "decision": decision})


TABLE = {
    # --- pages ---------------------------------------------------------------------------------
    "activities:home": R(plain(), get=g("-", **APP)),
    "activities:ledger": R(plain(), get=g("-", **APP)),
    "activities:ledger-export": R(plain(), get=g("-", **APP), post=g("-", **APP), body={}),
    "activities:activity-new": R(plain(), get=g("-", fc="deny", inst="ok", su="deny"),
                                 post=g("-", fc="deny", inst="ok", su="deny"), body={}),
    "activities:activity": R(by("act.activity"), get=g(TARGETS, **OWN)),
    "activities:activity-edit": R(by("act.activity"), get=g(TARGETS, **EDIT), post=g(TARGETS, **EDIT), body={}),
    "activities:activity-files": R(by("act.activity"), post=g(TARGETS, **WRITE_OWN, su="refused"),
                                   body={"kind": "photo"}),
    "activities:activity-delete": R(by("act.activity"), post=g(TARGETS, **WRITE_OWN, su="refused")),
    "activities:activity-file": R(by("act.file"), get=g(TARGETS, **OWN)),
    "activities:trainings": R(plain(), get=g("-", **APP), post=g("-", fc="deny", inst="ok", su="deny"), body={}),
    "activities:training": R(by("act.training"), get=g(TARGETS, **OWN),
                             post=g(TARGETS, fc="deny deny nf", inst="ok nf nf", su="deny"), body={}),
    "activities:training-import": R(by("act.training"), post=g(TARGETS, **WRITE_OWN, su="refused"), body={}),
    "activities:actions": R(plain(), get=g("-", **APP), post=g("-", fc="deny", inst="ok", su="deny"), body={}),
    "activities:action-edit": R(by("act.action"), get=g(TARGETS, **EDIT), post=g(TARGETS, **EDIT), body={}),
    "activities:kinds": R(plain(), get=g("-", **APP), post=g("-", fc="ok", inst="deny"), body={}),
    "activities:action-showcase": R(by("act.action"), post=g(TARGETS, **DECIDE), body={"on": "0"}),
    "activities:showcases": R(plain(), get=g("-", "ok")),
    "activities:notices": R(plain(), get=g("-", **APP), post=g("-", fc="ok", inst="deny"), body={}),
    "activities:notice": R(by("act.notice"), get=g(TARGETS, **OWN)),
    "activities:notice-attachment": R(by("act.attachment"), get=g(TARGETS, **OWN)),
    "activities:return-submit": R(by("act.receipt"), post=g(TARGETS, **WRITE_OWN, su="refused"),
                                  body={"text": "矩阵报送"}),
    "activities:return-decide": R(by("act.receipt"), post=g(TARGETS, **DECIDE), body={"decision": "accept"}),
    "activities:return-file": R(by("act.receipt"), get=g(TARGETS, **OWN)),
    "activities:campaigns": R(plain(), get=g("-", **APP), post=g("-", fc="ok", inst="deny"), body={}),
    "activities:campaign": R(by("act.campaign"), get=g(TARGETS, fc="ok ok nf", inst="ok ok nf")),
    "activities:evidence": R(by("assessment", param="assessment_pk", code="B1"), get=g(TARGETS, **OWN),
                             post=g(TARGETS, **OWN), body=_same_target("activity", source="activity")),
    "activities:archives": R(plain(), get=g("-", **APP)),
    "activities:archive": R(by("act.archive"), get=g(TARGETS, **OWN)),
    "activities:archive-download": R(by("act.archive"), get=g(TARGETS, **OWN)),
    "activities:calendar": R(plain(), get=g("-", **APP)),
    # A signed link per user and district, for calendar apps (no session): the capability is the link.
    "activities:calendar-ics": R(lambda w, key, t: reverse(key, kwargs={"token": w.extra["act.calendar_token"]}),
                                 get=public(), public=True),
    # --- API -----------------------------------------------------------------------------------
    "api:activities-activity-list": R(plain(), get=g("-", **APP), post=g("-", fc="refused", inst="ok"), body={}),
    "api:activities-activity-detail": R(by("act.activity"), get=g(TARGETS, **OWN)),
    "api:activities-activity-kinds": R(plain(), get=g("-", **APP, su="pick")),
    "api:activities-training-list": R(plain(), get=g("-", **APP), post=g("-", fc="refused", inst="ok"), body={}),
    "api:activities-training-detail": R(by("act.training"), get=g(TARGETS, **OWN)),
    "api:activities-training-attendance": R(by("act.training"), post=g(TARGETS, **WRITE_OWN, su="refused"),
                                            body={"employees": []}),
    "api:activities-training-completion": R(plain(), get=g("-", **APP)),
    "api:activities-notice-list": R(plain(), get=g("-", **APP), post=g("-", fc="ok", inst="deny"), body={}),
    "api:activities-notice-detail": R(by("act.notice"), get=g(TARGETS, **OWN)),
    "api:activities-return-list": R(plain(), get=g("-", **APP)),
    "api:activities-return-detail": R(by("act.receipt"), get=g(TARGETS, **OWN)),
    "api:activities-return-submit": R(by("act.receipt"), post=g(TARGETS, **WRITE_OWN, su="refused"),
                                      body={"text": "矩阵报送"}),
    "api:activities-return-decide": R(_decide("accept"), post=g(TARGETS, **DECIDE)),
}

# The admin: read-only, the finance center of the district (A, B) and the installation administrator.
for _name, _model in {"activities_activity": AdminModel("act.activity", "A B C", fc="v", su="v"),
                      "activities_trainingsession": AdminModel("act.training", "A B C", fc="v", su="v"),
                      "activities_campaign": AdminModel("act.campaign", "A B C", fc="v", su="v"),
                      "activities_notice": AdminModel("act.notice", "A B C", fc="v", su="v")}.items():
    TABLE.update(admin_routes(_name, _model))
