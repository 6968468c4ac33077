"""The data the authorization matrix runs against, built once per module through the apps' own
services and the tests' factories.

Two districts: 路桥 (331004) with institutions A (the users' own) and B, 椒江 (331002) with C.
Three years, one per stage of DOMAIN.md's "Results are seen in stages": OPEN (before the notice
period: results provisional), NOTICE (公示期) and PUBLISHED. Every object a route can name exists
once per institution (or per district), so that each route can be asked about A, B and C.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal as D

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import TestCase
from django.utils import timezone
from rest_framework.authtoken.models import Token, TokenProxy

from accounts.models import PasswordChangeRequired
from complaints import services as complaint_services
from complaints.crypto import encrypt_bytes
from complaints.images import process_image
from complaints.models import (
    HolidayYear,
    Notification,
    PiiReveal,
    RetiredPublicCode,
    SurveyBatch,
    SurveyResponse,
)
from core.models import ExportJob
from dashboards.models import AnnualReport
from institutions.models import District, DistrictGrant, Membership
from scoring import services as scoring
from scoring.models import (
    AggregationRun,
    Assessment,
    AssessmentEvent,
    Assignment,
    DistrictYear,
    Evidence,
    Indicator,
    NormClause,
    Norms,
    Result,
    Scheme,
    SchemeEvent,
    SheetEntry,
)
from staff_points import services as points
from staff_points.models import BlacklistEntry, Exemplar, PointRecord, PortraitView, ViolationType
from tests.complaints.helpers import make_image
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import assessment_for, assign, build_scheme, fill_sheet
from warnings_feed import services as warnings

OPEN, NOTICE, PUBLISHED = 2031, 2032, 2033
LUQIAO, JIAOJIANG = "331004", "331002"

# The roles of the matrix, in the order the table lists them.
ROLES = ("anon", "fc", "insp", "tp", "disc", "api", "city", "filer", "head", "emp", "su")
ROLE_NAMES = {
    "anon": "anonymous", "fc": "finance_center (路桥)", "insp": "inspector (路桥, assigned A)",
    "tp": "third_party (路桥, assigned A)", "disc": "discipline (路桥)", "api": "api_client (路桥)",
    "city": "city (台州市)", "filer": "institution_filer of A", "head": "institution_head of A",
    "emp": "employee of A", "su": "superuser",
}

STAGE_DIGIT = {OPEN: 6, NOTICE: 7, PUBLISHED: 8}


def result_marker(target: str, year: int) -> str:
    """The total written into the result of institution `target` in `year` (see leaks.py)."""
    return f"{STAGE_DIGIT[year]}{'ABC'.index(target) + 1}.73"


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role -> User (no entry for "anon")
    inst: dict = field(default_factory=dict)  # "A" / "B" / "C" -> Institution
    objs: dict = field(default_factory=dict)  # family -> {target -> object}
    extra: dict = field(default_factory=dict)  # anything else a URL needs (tokens, receipt codes, ...)

    def obj(self, family: str, target: str):
        return self.objs[family][target]


def _now():
    return timezone.now()


def build_world() -> World:
    """Everything, created inside the caller's transaction (on-commit callbacks run as a commit would
    run them); files go where the settings say (the caller points them at a temporary folder)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return _build()


def _build() -> World:
    w = World()
    lq, jj = (District.objects.get(code=c) for c in (LUQIAO, JIAOJIANG))

    # --- institutions and people --------------------------------------------------------------
    a = InstitutionFactory(code="MXA01", name="矩阵甲银行", short_name="矩阵甲", category="bank")
    b = InstitutionFactory(code="MXB01", name="矩阵乙保险", short_name="矩阵乙", category="insurance")
    c = InstitutionFactory(code="MXC01", name="矩阵丙银行", short_name="矩阵丙", category="bank", district=jj)
    w.inst = {"A": a, "B": b, "C": c}

    su = UserFactory(username="mx_su", is_superuser=True, is_staff=True)
    fc = UserFactory(username="mx_fc", roles=["finance_center"], is_staff=True)
    fc_jj = UserFactory(username="mx_fc_jj", roles=["finance_center"], roles__districts=[JIAOJIANG], is_staff=True)
    w.users = {
        "fc": fc,
        "insp": UserFactory(username="mx_insp", roles=["inspector"]),
        "tp": UserFactory(username="mx_tp", roles=["third_party"]),
        "disc": UserFactory(username="mx_disc", roles=["discipline"]),
        "api": UserFactory(username="mx_api", roles=["api_client"]),
        "city": UserFactory(username="mx_city", roles=["city"]),
        "filer": institution_user(a, "institution_filer", username="mx_filer", is_staff=True),
        "head": institution_user(a, "institution_head", username="mx_head", is_staff=True),
        "emp": institution_user(a, "employee", username="mx_emp"),
        "su": su,
    }
    filer_b = institution_user(b, "institution_filer", username="mx_filer_b", is_staff=True)
    filer_c = institution_user(c, "institution_filer", username="mx_filer_c", is_staff=True)
    head_b = institution_user(b, "institution_head", username="mx_head_b")
    head_c = institution_user(c, "institution_head", username="mx_head_c")

    # Employees: the employee user's own record in A, and one in each of B and C.
    employees = {
        "A": EmployeeFactory(institution=a, name="甲矩员", employee_no="MA001", user=w.users["emp"]),
        "B": EmployeeFactory(institution=b, name="乙矩员", employee_no="MB001", user=head_b),
        "C": EmployeeFactory(institution=c, name="丙矩员", employee_no="MC001", user=head_c),
    }
    w.objs["employee"] = employees

    # --- scoring: a scheme of each district for each year, sheets, runs, stages ---------------
    for district in (lq, jj):
        for year in (OPEN, NOTICE, PUBLISHED):
            scheme = build_scheme(year, district=district)
            for inst in (i for i in (a, b, c) if i.district_id == district.pk):
                assessment = assessment_for(inst, scheme)
                if year == OPEN:  # filing still going on: self and third-party drafts
                    fill_sheet(assessment, "self", {"B1": D("40"), "B2": D("38")}, submit=False)
                    fill_sheet(assessment, "inspection", {"B1": D("36"), "B2": D("30"), "B3": D("18"),
                                                          "R1": False})
                    fill_sheet(assessment, "third_party", {"B1": D("30")}, submit=False)
                else:
                    fill_sheet(assessment, "self", {"B1": D("40"), "B2": D("38"), "B3": D("20"), "R1": False})
                    fill_sheet(assessment, "inspection", {"B1": D("36"), "B2": D("30"), "B3": D("18"),
                                                          "R1": False})
                    fill_sheet(assessment, "third_party", {"B1": D("38"), "B2": D("34"), "B3": D("16"),
                                                           "R1": False})
            run = AggregationRun.objects.create(year=year, district=district, created_by=su)
            scoring.execute_run(run.pk)
            dy = scoring.district_year(district, year)
            if year in (NOTICE, PUBLISHED):
                scoring.open_notice(dy, su)
            if year == PUBLISHED:
                scoring.publish_year(scoring.district_year(district, year), su)

    for year in (OPEN, NOTICE, PUBLISHED):
        assign(w.users["insp"], a, year, "inspection")
        assign(w.users["tp"], a, year, "third_party")

    def assessments(year):
        return {t: Assessment.objects.get(institution=i, year=year) for t, i in w.inst.items()}

    w.objs["assessment"] = assessments(OPEN)
    w.objs["assessment@notice"] = assessments(NOTICE)
    w.objs["assessment@published"] = assessments(PUBLISHED)
    # Each result's total is made unmistakable (61.73 for A before the notice period, 82.73 for B once
    # published, ...), so that a page or an export showing one it should not is caught (leaks.py).
    for t, i in w.inst.items():
        for year in (OPEN, NOTICE, PUBLISHED):
            Result.objects.filter(institution=i, year=year).update(total=D(result_marker(t, year)))
    w.objs["result"] = {t: Result.objects.get(institution=i, year=OPEN) for t, i in w.inst.items()}
    w.objs["result@notice"] = {t: Result.objects.get(institution=i, year=NOTICE) for t, i in w.inst.items()}
    w.objs["result@published"] = {t: Result.objects.get(institution=i, year=PUBLISHED) for t, i in w.inst.items()}
    w.objs["assignment"] = {
        "A": Assignment.objects.filter(institution=a).first(),
        "B": assign(filer_b, b, OPEN, "inspection"),  # an odd assignment, only so that B has one
        "C": assign(filer_c, c, OPEN, "inspection"),
    }

    # Evidence on each self sheet (open year) and an entry per institution.
    evidence = {}
    entries = {}
    for t, assessment in w.objs["assessment"].items():
        entry = SheetEntry.objects.filter(sheet__assessment=assessment, sheet__source="self").order_by("pk").first()
        entries[t] = entry
        evidence[t] = Evidence.objects.create(
            entry=entry, file=ContentFile(PDF, name=f"mx-{t}.pdf"), original_name=f"佐证{t}.pdf",
            content_type="application/pdf", size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(),
            uploaded_by=su)
    w.objs["evidence"] = evidence
    w.objs["sheetentry"] = entries

    # Objections in the notice year (filed by each institution's own filer).
    filers = {"A": w.users["filer"], "B": filer_b, "C": filer_c}
    w.objs["objection"] = {t: scoring.file_objection(filers[t], assessment, f"申诉{t}：第三方测评有误")
                           for t, assessment in w.objs["assessment@notice"].items()}
    w.objs["assessmentevent"] = {
        t: AssessmentEvent.objects.create(assessment=assessment, action="note", from_state=assessment.state,
                                          to_state=assessment.state, actor=su, reason="矩阵")
        for t, assessment in w.objs["assessment"].items()}

    def by_district(model, **filters):
        return {"A": model.objects.filter(district=lq, **filters).order_by("pk").first(),
                "C": model.objects.filter(district=jj, **filters).order_by("pk").first()}

    w.objs["norms"] = by_district(Norms, year=OPEN)
    w.objs["scheme"] = by_district(Scheme, year=OPEN)
    w.objs["normclause"] = {t: NormClause.objects.filter(norms=n).order_by("pk").first()
                            for t, n in w.objs["norms"].items()}
    w.objs["indicator"] = {t: Indicator.objects.filter(scheme=s).order_by("pk").first()
                           for t, s in w.objs["scheme"].items()}
    w.objs["aggregationrun"] = by_district(AggregationRun, year=OPEN)
    w.objs["districtyear"] = by_district(DistrictYear, year=OPEN)
    w.objs["schemeevent"] = by_district(SchemeEvent)
    w.objs["district"] = {"A": lq, "C": jj}

    # --- complaints: one referred to each institution, one forwarded to discipline per district --
    def case(inst, name, phone, then):
        sub = complaint_services.Submission(
            institution=inst, kind="report", description=f"矩阵举报{inst.code}：柜员索要好处费",
            anonymous=False, contact_name=name, contact_phone=phone,
            images=[(process_image(make_image()), make_image())])
        receipt = complaint_services.submit(sub)
        for action in ("accept", then):
            complaint_services.perform_action(receipt.complaint.pk, action, su)
        return receipt

    referred = {t: case(i, f"举报人{t}", f"1381234567{n}", "refer_institution")
                for n, (t, i) in enumerate(w.inst.items())}
    forwarded = {t: case(w.inst[t], f"举报人F{t}", f"1391234567{n}", "forward_discipline")
                 for n, t in enumerate(("A", "C"))}
    w.objs["complaint"] = {t: r.complaint for t, r in referred.items()}
    w.objs["complaint@forwarded"] = {t: r.complaint for t, r in forwarded.items()}
    w.extra["receipt"] = {t: r.receipt_code for t, r in referred.items()}
    w.extra["receipt_token"] = encrypt_bytes(json.dumps(
        {"c": referred["A"].receipt_code, "i": a.name, "r": "2031-01-02 10:00"}, ensure_ascii=False).encode()).decode()
    for r in referred.values():
        complaint_services.reveal_identity(r.complaint, su, "矩阵核实")  # leaves a PiiReveal row
    w.objs["piireveal"] = {t: PiiReveal.objects.get(complaint=r.complaint) for t, r in referred.items()}
    w.objs["notification"] = {t: Notification.objects.filter(complaint=r.complaint).order_by("pk").first()
                              for t, r in referred.items()}
    for t, inst in w.inst.items():
        complaint_services.regenerate_public_code(inst, su)
        inst.refresh_from_db()
    w.objs["retiredpubliccode"] = {t: RetiredPublicCode.objects.filter(institution=i).first()
                                   for t, i in w.inst.items()}
    w.objs["institution"] = dict(w.inst)
    questionnaire = complaint_services.ensure_questionnaire(timezone.localdate().year)
    w.objs["questionnaire"] = {"-": questionnaire}
    tokens = {t: complaint_services.issue_survey_links(i, questionnaire, 2, su)[0] for t, i in w.inst.items()}
    w.extra["survey_token"] = tokens
    w.objs["surveybatch"] = {t: SurveyBatch.objects.filter(institution=i).first() for t, i in w.inst.items()}
    w.objs["surveyresponse"] = {
        t: SurveyResponse.objects.create(questionnaire=questionnaire, institution=i, answers={},
                                         mean_rating=D("4.5"), satisfied=True, submitted_at=_now())
        for t, i in w.inst.items()}
    w.objs["holidayyear"] = {"-": HolidayYear.objects.order_by("pk").first()}

    # --- warnings: one to each institution, one public per district ----------------------------
    def warning(publisher, scope, inst=None, district="", public=False, title="矩阵警示"):
        return warnings.publish(publisher, warnings.Draft(
            title=f"{title}：员工黄小明违规", body="某员工黄小明违规收受礼金，被依法查处。", case_type="other",
            severity="high", scope=scope, institution_code=inst.code if inst else "", district_code=district,
            is_public=public))

    w.objs["warning"] = {t: warning(su, "institution", inst=i) for t, i in w.inst.items()}
    w.objs["warning@public"] = {"A": warning(su, "district", district=LUQIAO, public=True, title="公开警示A"),
                                "C": warning(su, "district", district=JIAOJIANG, public=True, title="公开警示C")}

    # --- staff points: a red-line record (a blacklist proposal) per institution -----------------
    ViolationType.objects.create(code="MXV1", name="矩阵违规", module="discipline", points=D("5"))
    ViolationType.objects.create(code="MXR1", name="矩阵红线", module="red_line", points=D("30"), is_red_line=True)
    w.objs["violationtype"] = {"-": ViolationType.objects.get(code="MXV1")}
    listed = {t: EmployeeFactory(institution=i, name=f"{t}列名员", employee_no=f"MX{t}9") for t, i in w.inst.items()}
    today = timezone.localdate()
    for t, employee in listed.items():
        points.record_points(su, employee, points.RecordInput(date=today - timedelta(days=3), kind="deduction",
                                                              violation_code="MXR1"))
    w.objs["blacklistentry"] = {t: BlacklistEntry.objects.get(employee=e) for t, e in listed.items()}
    w.objs["pointrecord"] = {t: PointRecord.objects.filter(employee=e).first() for t, e in listed.items()}
    for t, employee in employees.items():
        points.log_portrait_view(su, employee)
    w.objs["portraitview"] = {t: PortraitView.objects.filter(employee=e).first() for t, e in employees.items()}
    w.objs["exemplar"] = {t: Exemplar.objects.create(employee=e, year=today.year, confirmed_by=su)
                          for t, e in employees.items()}

    # --- annual reports, one per district, finished with both files ----------------------------
    reports = {}
    for t, district, by in (("A", lq, fc), ("C", jj, fc_jj)):
        report = AnnualReport.objects.create(district=district, year=PUBLISHED, status="succeeded", progress=100,
                                             created_by=by, finished_at=_now())
        report.pdf.save(f"mx-{t}.pdf", ContentFile(PDF), save=False)
        report.xlsx.save(f"mx-{t}.xlsx", ContentFile(b"PK\x03\x04matrix"), save=False)
        report.save()
        reports[t] = report
    w.objs["annualreport"] = reports

    # --- background exports (core.export_jobs): A's asked for by 路桥's finance center, C's by 椒江's --
    jobs = {}
    for t, by in (("A", fc), ("C", fc_jj)):
        job = ExportJob.objects.create(kind="activities.ledger", created_by=by, status="succeeded", progress=100,
                                       file_name="activities.xlsx", content_type="application/octet-stream",
                                       finished_at=_now())
        job.file.save(f"mx-{t}.xlsx", ContentFile(b"PK\x03\x04matrix"))
        jobs[t] = job
    w.objs["exportjob"] = jobs

    # --- accounts and installation objects ------------------------------------------------------
    w.objs["passwordchangerequired"] = {
        "A": PasswordChangeRequired.objects.create(user=w.users["emp"], created_by=su),
        "B": PasswordChangeRequired.objects.create(user=head_b, created_by=su),
        "C": PasswordChangeRequired.objects.create(user=head_c, created_by=su),
    }
    w.objs["membership"] = {t: Membership.objects.filter(user=u).first() for t, u in filers.items()}
    w.objs["districtgrant"] = {"A": DistrictGrant.objects.get(user=fc), "C": DistrictGrant.objects.get(user=fc_jj)}
    w.objs["user"] = {"A": w.users["filer"], "C": filer_c}
    w.objs["group"] = {"-": Group.objects.get(name="finance_center")}
    Token.objects.create(user=w.users["api"])
    w.objs["tokenproxy"] = {"-": TokenProxy.objects.get(user=w.users["api"])}
    axes_row = {"user_agent": "matrix", "ip_address": "10.0.0.1", "username": "mx_nobody", "http_accept": "*/*",
                "path_info": "/accounts/login/"}
    w.objs["accessattempt"] = {"-": AccessAttempt.objects.create(get_data="", post_data="", failures_since_start=1,
                                                                 **axes_row)}
    w.objs["accesslog"] = {"-": AccessLog.objects.create(**axes_row)}
    w.objs["accessfailurelog"] = {"-": AccessFailureLog.objects.create(**axes_row)}
    mail = apps.get_model("core", "OutgoingMail")
    w.objs["outgoingmail"] = {"-": mail.objects.order_by("pk").first() or mail.objects.create(
        key="matrix", kind="matrix.test", recipients=["mx@example.invalid"], subject="矩阵", body="矩阵")}
    queued = apps.get_model("core", "QueuedTask")
    w.objs["queuedtask"] = {"-": queued.objects.create(task_name="core.send_pending_mail")}
    # Institutions' history rows (simple_history): the history form of each institution.
    w.objs["institution_history"] = {t: i.history.order_by("-history_id").first() for t, i in w.inst.items()}
    w.objs["employee_history"] = {t: e.history.order_by("-history_id").first() for t, e in employees.items()}
    w.objs["membership_history"] = {t: m.history.order_by("-history_id").first()
                                    for t, m in w.objs["membership"].items()}
    w.objs["districtgrant_history"] = {t: g.history.order_by("-history_id").first()
                                       for t, g in w.objs["districtgrant"].items()}
    from tests.access_matrix import plugins  # the apps' own parts (plugins/__init__.py)

    plugins.build_all(w)
    return w
