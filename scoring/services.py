"""Scoring services: the ORM and transactions around the pure rules of rules.py.

Views, serializers, admin actions, commands and Celery tasks call these functions; they raise
`ScoringError` subclasses whose message is meant for the person who acted.
"""

from __future__ import annotations

import gc
import io
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import groupby

import orjson
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bulk import foreign_key_checks_sql, refresh_statistics, update_each
from core.errors import DomainError, NotAllowed, NotFound, StateConflict
from core.overlap import Alongside
from core.queue import enqueue_after_commit
from core.tabular import ImportReport, RowProblem
from institutions import access
from institutions.models import District, Institution, Role

from . import item_summary, rules, sheet_sums
from .models import (
    AggregationRun,
    Assessment,
    AssessmentEvent,
    AssessmentState,
    Assignment,
    CityIndexWeights,
    CityPackage,
    DistrictYear,
    Evidence,
    Indicator,
    IndicatorKind,
    LetterDispatch,
    LinkageLetter,
    NormClause,
    NormItem,
    Norms,
    Objection,
    ObjectionStatus,
    Result,
    ResultStatus,
    Scheme,
    SchemeEvent,
    SchemeStatus,
    ScoreSheet,
    SheetEntry,
    SheetStatus,
    Source,
    YearStatus,
)

log = logging.getLogger(__name__)


# The services' refusals; the API answers each with its status (400, 403, 404, 409).
ScoringError = DomainError


# --------------------------------------------------------------------------------------------
# Scheme parameters


def scheme_params(scheme: Scheme) -> rules.SchemeParams:
    return rules.SchemeParams(
        weights={s: scheme.weight_for(s) for s in rules.SOURCES},
        bonus_cap=scheme.bonus_cap,
        complaint_deduction=scheme.complaint_deduction,
        complaint_deduction_cap=scheme.complaint_deduction_cap,
        band_green=scheme.band_green,
        band_blue=scheme.band_blue,
        band_yellow=scheme.band_yellow,
        linkage=scheme.linkage,
        linkage_uses=scheme.linkage_uses,
    )


def indicator_spec(indicator: Indicator) -> rules.IndicatorSpec:
    return rules.IndicatorSpec(code=indicator.code, kind=indicator.kind, max_points=indicator.max_points)


def activation_problems(scheme: Scheme) -> list[str]:
    problems = rules.validate_scheme_params(scheme_params(scheme))
    basic_total = scheme.indicators.filter(kind=IndicatorKind.BASIC).aggregate(s=Sum("max_points"))["s"] or 0
    if Decimal(basic_total) != Decimal(100):
        problems.append(_("基础项满分合计为 %(total)s，应恰为 100")
                        % {"total": f"{Decimal(basic_total).normalize():f}"})
    return problems


@transaction.atomic
def activate_scheme(scheme: Scheme, actor=None) -> Scheme:
    if scheme.status != SchemeStatus.DRAFT:
        raise StateConflict(_("%(year)s 年度方案当前为“%(status)s”，无需启用")
                            % {"year": scheme.year, "status": scheme.get_status_display()})
    problems = activation_problems(scheme)
    if problems:
        raise ScoringError(_("方案不能启用：%(problems)s") % {"problems": "；".join(problems)})
    scheme.status = SchemeStatus.ACTIVE
    scheme.save(update_fields=["status", "updated_at"])
    SchemeEvent.objects.create(scheme=scheme, action="activate", actor=actor)
    return scheme


@transaction.atomic
def clone_scheme(source: Scheme, year: int, actor=None, *, district: District | bool | None = False) -> Scheme:
    """A draft for `year` (and `district`: the source's own district by default, None for the template)
    from the source's norms, indicators and parameters: next year from last year, or a district's
    own scheme from the installation's template."""
    district = source.district if district is False else district
    district_id = district.pk if district else None
    if (Scheme.objects.filter(year=year, district_id=district_id).exists()
            or Norms.objects.filter(year=year, district_id=district_id).exists()):
        owner = district.name if district else _("全系统模板")
        raise StateConflict(_("%(owner)s %(year)s 年度已有方案或规范") % {"owner": owner, "year": year})
    norms = Norms.objects.create(year=year, district_id=district_id,
                                 title=source.norms.title.replace(str(source.year), str(year)))
    clause_map = {}
    for item in source.norms.items.prefetch_related("clauses"):
        new_item = NormItem.objects.create(norms=norms, number=item.number, title=item.title)
        for clause in item.clauses.all():
            clause_map[clause.pk] = NormClause.objects.create(
                norms=norms, item=new_item, number=clause.number, title=clause.title, position=clause.position)
    scheme = Scheme.objects.get(pk=source.pk)
    scheme.pk = None
    scheme.year, scheme.norms, scheme.status, scheme.district_id = year, norms, SchemeStatus.DRAFT, district_id
    scheme.self_due_date = scheme.review_due_date = scheme.aggregate_on = None
    scheme.save()
    Indicator.objects.bulk_create([
        Indicator(scheme=scheme, code=i.code, kind=i.kind, clause=clause_map.get(i.clause_id),
                  max_points=i.max_points, title=i.title, guidance=i.guidance,
                  requires_evidence=i.requires_evidence, position=i.position)
        for i in source.indicators.all()
    ])
    SchemeEvent.objects.create(  # i18n-exempt: the reason is stored on the event record
        scheme=scheme, action="clone", actor=_real_user(actor), reason=f"复制自 {source}")
    return scheme


# --------------------------------------------------------------------------------------------
# import_scheme


NORMS_COLUMNS = ("item_no", "item_title", "clause_no", "clause_title")
INDICATOR_COLUMNS = ("code", "kind", "clause_no", "max_points", "title")


def _parse_max_points(raw: str) -> Decimal:
    spec = rules.IndicatorSpec(code="max", kind="basic", max_points=Decimal("999.9"))
    value = rules.parse_entry_value(spec, raw)
    if value <= 0:
        raise rules.EntryValueError(_("满分须大于 0"))
    return value


def import_scheme(year: int, norms_rows, indicator_rows, *, activate: bool = False, actor=None,
                  district: District | None = None) -> ImportReport:
    """Create or update a year's norms and scheme from two datasets, all-or-nothing: the district's own
    with `district`, else the installation's template for the year.

    Problems are reported per file line: norms file lines as `规范第 N 行`, indicators as `指标第 N 行`.
    """
    report = ImportReport()

    def problem(prefix: str, line: int, message: str) -> None:
        report.problems.append(RowProblem(line, _("%(file)s：%(problem)s") % {"file": prefix, "problem": message}))

    items: dict[int, str] = {}
    clauses: dict[str, tuple[int, str, int]] = {}
    for line, row in enumerate(norms_rows.dict, 2):
        try:
            item_no = int(str(row["item_no"]).strip())
        except ValueError:
            problem(_("规范"), line, _("项号 %(number)s 不是整数") % {"number": repr(row["item_no"])})
            continue
        item_title, clause_no, clause_title = (str(row[c]).strip() for c in NORMS_COLUMNS[1:])
        if not item_title or not clause_no or not clause_title:
            problem(_("规范"), line, _("项目名称、条号、条款内容均不能为空"))
            continue
        if not 1 <= item_no <= 99:
            problem(_("规范"), line, _("项号 %(number)s 超出范围（1–99）") % {"number": item_no})
            continue
        if len(clause_no) > 10 or len(item_title) > 200 or len(clause_title) > 300:
            problem(_("规范"), line, _("条号最多 10 个字符，项目名称最多 200 字，条款内容最多 300 字"))
            continue
        if items.setdefault(item_no, item_title) != item_title:
            problem(_("规范"), line, _("第 %(number)s 项的名称与前文不一致") % {"number": item_no})
        if clause_no in clauses:
            problem(_("规范"), line, _("条号 %(clause)s 重复") % {"clause": clause_no})
            continue
        clauses[clause_no] = (item_no, clause_title, line)

    indicators: dict[str, tuple[str, str, Decimal | None, str, int]] = {}
    for line, row in enumerate(indicator_rows.dict, 2):
        code, kind, clause_no, raw_max, title = (str(row[c] or "").strip() for c in INDICATOR_COLUMNS)
        if not code or not title:
            problem(_("指标"), line, _("指标编码和名称不能为空"))
            continue
        if len(code) > 20 or len(title) > 300:
            problem(_("指标"), line, _("指标编码最多 20 个字符，名称最多 300 字"))
            continue
        if code in indicators:
            problem(_("指标"), line, _("指标编码 %(code)s 重复") % {"code": code})
            continue
        if kind not in IndicatorKind.values:
            problem(_("指标"), line, _("未知类型 %(kind)s，应为 basic、bonus 或 red_line") % {"kind": repr(kind)})
            continue
        if clause_no and clause_no not in clauses:
            problem(_("指标"), line, _("条号 %(clause)s 不在规范文件中") % {"clause": clause_no})
            continue
        if kind == IndicatorKind.BASIC and not clause_no:
            problem(_("指标"), line, _("基础项 %(code)s 须属于某一条款") % {"code": code})
            continue
        max_points = None
        if kind == IndicatorKind.RED_LINE:
            if raw_max:
                problem(_("指标"), line, _("红线项 %(code)s 不设满分，max_points 应留空") % {"code": code})
                continue
        else:
            try:
                max_points = _parse_max_points(raw_max)
            except rules.EntryValueError:
                problem(_("指标"), line, _("%(code)s 的满分 %(value)s 无效：应为大于 0、最多一位小数的数")
                        % {"code": code, "value": repr(raw_max)})
                continue
        indicators[code] = (kind, clause_no, max_points, title, line)

    if not report.problems:
        basic_total = sum((v[2] for v in indicators.values() if v[0] == IndicatorKind.BASIC), Decimal(0))
        if activate and basic_total != 100:
            report.problems.append(RowProblem(1, _("指标：基础项满分合计为 %(total)s，应恰为 100，方案不能启用")
                                              % {"total": f"{basic_total:f}"}))
    if report.problems:
        report.problems.sort(key=lambda p: (p.message[:2], p.line))
        return report

    district_id = district.pk if district else None
    with transaction.atomic():
        scheme = Scheme.objects.select_for_update().filter(year=year, district_id=district_id).order_by("pk").first()
        if scheme and scheme.district_years.exclude(status=YearStatus.OPEN).exists():
            report.problems.append(RowProblem(1, _("%(scheme)s 已有区县进入公示或已发布，不能再导入")
                                              % {"scheme": scheme}))
            return report
        if district is not None:
            # Locked: a sheet being saved holds the year (SHARE) until it commits, so its entries are seen
            # here, and a save coming after this switch finds the year's new scheme (save_entry).
            in_use = DistrictYear.objects.select_for_update(of=("self",)).filter(district=district, year=year).exclude(
                scheme__district_id=district_id).first()
            if in_use and SheetEntry.objects.filter(sheet__assessment__scheme_id=in_use.scheme_id,
                                                    sheet__assessment__institution__district=district).exists():
                report.problems.append(RowProblem(1, _("%(district)s %(year)s 年度已按全系统模板开始评分，"
                                                       "不能再改用本区方案")
                                                  % {"district": district.name, "year": year}))
                return report
        norms, _created = Norms.objects.get_or_create(  # i18n-exempt: the title is stored as the norms' data
            year=year, district_id=district_id, defaults={"title": f"{year} 年度清廉金融创建规范"})
        item_objs = {}
        for number, title in items.items():
            item_objs[number], _created = NormItem.objects.update_or_create(norms=norms, number=number,
                                                                            defaults={"title": title})
        clause_objs = {}
        for position, (number, (item_no, title, _line)) in enumerate(clauses.items()):
            clause_objs[number], _created = NormClause.objects.update_or_create(
                norms=norms, number=number, defaults={"item": item_objs[item_no], "title": title,
                                                      "position": position})
        if scheme is None:
            scheme = Scheme.objects.create(year=year, norms=norms, district_id=district_id)
        created = updated = 0
        for position, (code, (kind, clause_no, max_points, title, _line)) in enumerate(indicators.items()):
            _obj, was_created = Indicator.objects.update_or_create(
                scheme=scheme, code=code,
                defaults={"kind": kind, "clause": clause_objs.get(clause_no), "max_points": max_points,
                          "title": title, "position": position})
            created += was_created
            updated += not was_created
        stale = scheme.indicators.exclude(code__in=list(indicators))
        if stale.filter(entries__isnull=False).exists():
            codes = "、".join(stale.filter(entries__isnull=False).values_list("code", flat=True).distinct())
            report.problems.append(RowProblem(1, _("指标：已有评分的指标不能从方案中删除：%(codes)s")
                                              % {"codes": codes}))
            transaction.set_rollback(True)
            return report
        stale.delete()
        NormClause.objects.filter(norms=norms).exclude(number__in=list(clauses)).filter(indicators__isnull=True).delete()
        NormItem.objects.filter(norms=norms).exclude(number__in=list(items)).filter(clauses__isnull=True).delete()
        SchemeEvent.objects.create(  # i18n-exempt: the reason is stored on the event record
            scheme=scheme, action="import", actor=actor, reason=f"{len(clauses)} 条款，{len(indicators)} 项指标")
        if activate and scheme.status == SchemeStatus.DRAFT:
            activate_scheme(scheme, actor)
        if district is not None:
            _adopt_own_scheme(district, scheme)
        report.created, report.updated = created, updated
    return report


def _adopt_own_scheme(district: District, scheme: Scheme) -> None:
    """A district that imports its own scheme before scoring started switches to it from the template."""
    year = DistrictYear.objects.filter(district=district, year=scheme.year).exclude(scheme=scheme).first()
    if year is not None and year.status == YearStatus.OPEN:
        year.scheme = scheme
        year.save(update_fields=["scheme", "updated_at"])
        Assessment.objects.filter(year=scheme.year, institution__district=district).update(scheme=scheme)


# --------------------------------------------------------------------------------------------
# Assessments and sheets: permissions and workflow


def scheme_for(district: District | int, year: int) -> Scheme:
    """The scheme a district uses for a year: its own, else the installation's template."""
    district_id = district if isinstance(district, int) else district.pk
    scheme = (Scheme.objects.filter(year=year, district_id=district_id).first()
              or Scheme.objects.filter(year=year, district__isnull=True).first())
    if scheme is None:
        raise NotFound(_("%(year)s 年度尚无评价方案") % {"year": year})
    return scheme


def district_year(district: District | int, year: int, *, lock: bool = False) -> DistrictYear:
    """The district's year (created on first use, with the scheme it uses); `lock` holds the row
    for the rest of the transaction (aggregation, notice and publishing of the district serialise on it)."""
    district_id = district if isinstance(district, int) else district.pk
    qs = DistrictYear.objects.select_related("scheme", "district")
    found = (qs.select_for_update(of=("self",)) if lock else qs).filter(district_id=district_id, year=year).first()
    if found is not None:
        return found
    scheme = scheme_for(district_id, year)
    DistrictYear.objects.get_or_create(district_id=district_id, year=year, defaults={"scheme": scheme})
    return (qs.select_for_update(of=("self",)) if lock else qs).get(district_id=district_id, year=year)


def district_years_using(scheme: Scheme) -> list[DistrictYear]:
    """The district-years a scheme serves: its own district's, or (a template) every district with
    active institutions and no scheme of its own that year. Created on first use."""
    if scheme.district_id is not None:
        district_ids = [scheme.district_id]
    else:
        own = Scheme.objects.filter(year=scheme.year, district__isnull=False).values("district_id")
        district_ids = list(Institution.objects.filter(is_active=True).exclude(district_id__in=own)
                            .values_list("district_id", flat=True).distinct().order_by("district_id"))
    return [district_year(pk, scheme.year) for pk in district_ids]


def year_of(assessment: Assessment) -> DistrictYear:
    return district_year(assessment.institution.district_id, assessment.year)


def ensure_assessment(institution: Institution, year: int) -> Assessment:
    existing = Assessment.objects.filter(institution=institution, year=year).first()
    if existing is not None:
        return existing
    scheme = district_year(institution.district_id, year).scheme
    assessment, _ = Assessment.objects.get_or_create(institution=institution, year=year, defaults={"scheme": scheme})
    return assessment


def open_year(year: DistrictYear) -> int:
    """Create the district's assessments for every active institution; returns how many are new."""
    if year.status != YearStatus.OPEN:
        raise StateConflict(_("%(district)s %(year)s 年度%(status)s，不能再建立测评表")
                            % {"district": year.district.name, "year": year.year, "status": year.get_status_display()})
    existing = set(Assessment.objects.filter(year=year.year, institution__district_id=year.district_id)
                   .values_list("institution_id", flat=True))
    new = [Assessment(institution_id=pk, year=year.year, scheme_id=year.scheme_id)
           for pk in Institution.objects.filter(is_active=True, district_id=year.district_id)
           .values_list("pk", flat=True) if pk not in existing]
    Assessment.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def assigned_institution_ids(user, year: int, source: str) -> set[int]:
    return set(Assignment.objects.filter(user=user, year=year, source=source).values_list("institution_id",
                                                                                            flat=True))


def visible_assessments(user, qs=None):
    """Assessments the user may see (DOMAIN.md, "Results are seen in stages"): the finance center
    every one of its districts; inspectors and the third party their assignments in their districts;
    institution filers and heads their own; API clients, the discipline commission and city users
    those of their districts' published years."""
    from . import selectors

    qs = Assessment.objects.all() if qs is None else qs
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    finance = access.district_ids(user, Role.FINANCE_CENTER)
    if finance is None:
        return qs
    condition = Q(institution__district_id__in=finance)
    reviewing = access.district_ids(user, Role.INSPECTOR, Role.THIRD_PARTY)
    if reviewing:
        condition |= Q(institution_id__in=Assignment.objects.filter(user=user).values("institution_id"),
                       institution__district_id__in=reviewing)
    filer_or_head = access.member_institution_ids(user, Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD)
    if filer_or_head:
        condition |= Q(institution_id__in=filer_or_head)
    readers = access.district_ids(user, Role.API_CLIENT, Role.DISCIPLINE, Role.CITY)
    if readers:
        condition |= Q(institution__district_id__in=readers) & selectors.year_reached(
            (YearStatus.PUBLISHED,), "institution__district_id")
    return qs.filter(condition)


def is_own_institution_user(user, institution_id: int) -> bool:
    """A filer or head of this institution."""
    return institution_id in access.member_institution_ids(user, Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD)


def fillable_sources(user, assessment: Assessment) -> list[str]:
    """The sheets this user may edit on this assessment."""
    out = []
    if access.is_finance_center(user, assessment.institution.district_id):
        return list(Source.values)
    if is_own_institution_user(user, assessment.institution_id):
        out.append(Source.SELF)
    # An assignment counts only while the reviewer still holds the role in the institution's district.
    reviewer_roles = {Source.INSPECTION: Role.INSPECTOR, Source.THIRD_PARTY: Role.THIRD_PARTY}
    district_id = assessment.institution.district_id
    granted = [s for s, role in reviewer_roles.items() if access.acts_in(user, district_id, role)]
    if granted:
        assigned = set(Assignment.objects.filter(user=user, institution_id=assessment.institution_id,
                                                 year=assessment.year, source__in=granted)
                       .values_list("source", flat=True))
        out += [s for s in (Source.INSPECTION, Source.THIRD_PARTY) if s in assigned]
    return out


def can_submit(user, assessment: Assessment, source: str) -> bool:
    if access.is_finance_center(user, assessment.institution.district_id):
        return True
    if source == Source.SELF:
        return assessment.institution_id in access.headed_institution_ids(user)
    return source in fillable_sources(user, assessment)


def _real_user(user):
    return user if getattr(user, "pk", None) and getattr(user, "is_authenticated", False) else None


def _record(assessment: Assessment, action: str, to_state: str, actor=None, reason: str = "", source: str = "") -> None:
    actor = _real_user(actor)
    AssessmentEvent.objects.create(assessment=assessment, action=action, source=source,
                                   from_state=assessment.state, to_state=to_state, actor=actor, reason=reason)
    if to_state != assessment.state:
        assessment.state = to_state
        assessment.save(update_fields=["state", "updated_at"])


def reopened_for_correction(assessment: Assessment, source: str) -> bool:
    """Whether this sheet was reopened during the notice period because an objection was upheld."""
    return Objection.objects.filter(assessment=assessment, status=ObjectionStatus.UPHELD,
                                    reopened_source=source).exists()


def _hold_year(assessment: Assessment) -> None:
    """Inside a transaction: hold the district-year row in SHARE mode until the commit, so that locking
    it for notice or publishing (which take it FOR UPDATE) waits for this write, and this write, if it
    comes second, reads the new status. Writers of one district do not wait for one another.
    (SQLite serialises writers anyway.)"""
    if connection.vendor != "postgresql":
        return
    year_of(assessment)  # created on first use
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM scoring_districtyear WHERE district_id = %s AND year = %s FOR SHARE",
                       [assessment.institution.district_id, assessment.year])


def _check_year_open(assessment: Assessment, source: str, *, held: bool = False) -> DistrictYear:
    """The district's year must be open for this sheet: not published, not in the notice period
    (unless the sheet was reopened there to correct an upheld objection), and the scheme active.
    `held`: called inside the writer's transaction, after _hold_year (the status read is final)."""
    if held:
        _hold_year(assessment)
    year = year_of(assessment)
    if year.status == YearStatus.PUBLISHED:
        raise StateConflict(_("%(district)s %(year)s 年度结果已发布，评分表已冻结；"
                              "如需修改，请由区金融工作中心说明理由后重新开放")
                            % {"district": year.district.name, "year": year.year})
    if year.status == YearStatus.NOTICE and not reopened_for_correction(assessment, source):
        raise StateConflict(_("%(district)s %(year)s 年度处于公示期，评分表已锁定；"
                              "如有异议请提出复核申请（异议）") % {"district": year.district.name, "year": year.year})
    if assessment.scheme.status == SchemeStatus.DRAFT:
        raise StateConflict(_("%(year)s 年度方案尚未启用") % {"year": assessment.year})
    return year


def _sheet(assessment: Assessment, source: str, lock: bool = False) -> ScoreSheet:
    qs = ScoreSheet.objects.select_for_update() if lock else ScoreSheet.objects
    try:
        return qs.get(assessment=assessment, source=source)
    except ScoreSheet.DoesNotExist:
        try:
            with transaction.atomic():
                ScoreSheet.objects.create(assessment=assessment, source=source)
        except IntegrityError:
            pass  # created concurrently: fine, read it below
        return qs.get(assessment=assessment, source=source)


def _check_source(source: str) -> None:
    if source not in Source.values:
        raise NotFound(_("未知评分来源 %(source)s，应为 self、inspection 或 third_party") % {"source": source})


@dataclass(frozen=True)
class EntryInput:
    indicator_code: str
    raw_value: object
    note: str = ""
    expected_version: int | None = None


def save_entry(user, assessment: Assessment, source: str, data: EntryInput) -> SheetEntry:
    """Save one sheet entry as `user` (draft sheets only; finance center may correct during notice)."""
    _check_source(source)
    scheme = assessment.scheme
    if source not in fillable_sources(user, assessment):
        raise NotAllowed(_("您无权填写该机构的“%(source)s”评分表") % {"source": Source(source).label})
    _check_year_open(assessment, source)  # early refusal; checked again under the lock below
    indicator = Indicator.objects.filter(scheme=scheme, code=data.indicator_code).first()
    if indicator is None:
        raise UnknownIndicator(_("%(year)s 年度方案中没有指标 %(code)s")
                               % {"year": scheme.year, "code": data.indicator_code})
    try:
        value = rules.parse_entry_value(indicator_spec(indicator), data.raw_value)
    except rules.EntryValueError as exc:
        raise EntryRefused(str(exc)) from None
    with transaction.atomic():
        year = _check_year_open(assessment, source, held=True)
        if indicator.scheme_id != year.scheme_id:  # the district switched to its own scheme meanwhile
            raise StateConflict(_("%(district)s %(year)s 年度已改用新的评价方案，请刷新页面后重新填写")
                                % {"district": year.district.name, "year": year.year})
        sheet = _sheet(assessment, source, lock=True)
        correcting = year.status == YearStatus.NOTICE
        if sheet.status == SheetStatus.SUBMITTED:
            raise StateConflict(_("“%(source)s”评分表已提交，不能修改；如需修改请由区金融工作中心退回")
                                % {"source": sheet.get_source_display()})
        fields = {"points": None if isinstance(value, bool) else value,
                  "hit": value if isinstance(value, bool) else None,
                  "note": data.note or "", "updated_by": user if getattr(user, "pk", None) else None}
        entry = SheetEntry.objects.filter(sheet=sheet, indicator=indicator).first()
        if entry is None:
            if data.expected_version not in (None, 0):
                raise StaleEntry(_("指标 %(code)s 的填报已变化，请刷新后重试") % {"code": indicator.code})
            entry = SheetEntry.objects.create(sheet=sheet, indicator=indicator, **fields)
        else:
            qs = SheetEntry.objects.filter(pk=entry.pk)
            if data.expected_version is not None:
                qs = qs.filter(version=data.expected_version)
            changed = qs.update(version=F("version") + 1, updated_at=timezone.now(), **fields)
            if not changed:
                raise StaleEntry(_("指标 %(code)s 已被他人修改（您看到的是旧版本），请刷新后再保存")
                                 % {"code": indicator.code})
            entry.refresh_from_db()
        if source == Source.SELF and assessment.state == AssessmentState.NOT_STARTED:
            _record(assessment, "save_self", AssessmentState.SELF_IN_PROGRESS, user, source=source)
        elif source != Source.SELF and assessment.state == AssessmentState.SELF_SUBMITTED:
            _record(assessment, "review_started", AssessmentState.IN_REVIEW, user, source=source)
        if correcting:
            AssessmentEvent.objects.create(  # i18n-exempt: the reason is stored on the event record
                assessment=assessment, action="correct", source=source, from_state=assessment.state,
                to_state=assessment.state, actor=user, reason=f"公示期更正 {indicator.code}")
    return entry


class EntryRefused(DomainError):
    """One entry's value is refused (400)."""


class UnknownIndicator(NotFound):
    """The scheme has no such indicator (404)."""


class StaleEntry(StateConflict):
    """Someone saved the entry since it was read (409)."""


ROW_ERRORS = (EntryRefused, UnknownIndicator, StaleEntry)


class SheetRejected(DomainError):
    """Rows of a sheet were refused and nothing of the sheet was saved. `problems`: key -> message
    (the key is the indicator code, or the line of an uploaded file)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(_("有 %(count)s 项未通过校验，本次未保存任何内容") % {"count": len(problems)})
        self.problems = problems


@dataclass(frozen=True)
class SheetRow:
    key: str  # what a refusal is reported against: the indicator code, or a file's line
    entry: EntryInput


def save_sheet(user, assessment: Assessment, source: str, rows: Iterable[SheetRow]) -> list[SheetEntry]:
    """Save entries of one sheet, all or nothing: the filing page, the xlsx upload and the API all call
    this service. A refused row refuses the whole save: one row's own refusal is raised as it is (400,
    404 or 409), several are gathered in `SheetRejected`. A refusal of the sheet as a whole (not
    allowed, published, locked, submitted) is raised at once."""
    rows = list(rows)
    saved, problems, first = [], {}, None
    with transaction.atomic():
        for row in rows:
            try:
                saved.append(save_entry(user, assessment, source, row.entry))
            except ROW_ERRORS as exc:
                problems[row.key] = str(exc)
                first = first or exc
        if problems:
            transaction.set_rollback(True)
    if len(problems) == 1 and len(rows) == 1:
        raise first
    if problems:
        raise SheetRejected(problems)
    return saved


def missing_evidence(sheet: ScoreSheet) -> list[str]:
    required = Indicator.objects.filter(scheme_id=sheet.assessment.scheme_id, requires_evidence=True)
    with_evidence = set(SheetEntry.objects.filter(sheet=sheet, evidence__isnull=False)
                        .values_list("indicator_id", flat=True))
    return [i.code for i in required if i.pk not in with_evidence]


def submit_sheet(user, assessment: Assessment, source: str, *, as_operator: bool = False) -> ScoreSheet:
    """Submit a sheet. `as_operator`: a command-line operator acting with the finance center's authority."""
    _check_source(source)
    if not as_operator and not can_submit(user, assessment, source):
        if source == Source.SELF:
            raise NotAllowed(_("机构自评表须由机构负责人提交"))
        raise NotAllowed(_("您无权提交该机构的“%(source)s”评分表") % {"source": Source(source).label})
    _check_year_open(assessment, source)
    with transaction.atomic():
        _check_year_open(assessment, source, held=True)
        sheet = _sheet(assessment, source, lock=True)
        # The assessment held and its state read again: two sheets of one institution submitted at once
        # each decided its new state without the other's submission (self then left SELF_SUBMITTED
        # although the inspection sheet was in).
        assessment.state = Assessment.objects.select_for_update().values_list("state", flat=True).get(
            pk=assessment.pk)
        if sheet.status == SheetStatus.SUBMITTED:
            raise StateConflict(_("“%(source)s”评分表已提交") % {"source": sheet.get_source_display()})
        if source == Source.SELF:
            lacking = missing_evidence(sheet)
            if lacking:
                raise ScoringError(_("以下指标须上传佐证材料后才能提交：%(codes)s") % {"codes": "、".join(lacking)})
        sheet.status = SheetStatus.SUBMITTED
        sheet.submitted_at = timezone.now()
        sheet.submitted_by = _real_user(user)
        sheet_sums.stamp(sheet)  # its entries cannot change now: counted once, read by every aggregation
        sheet.save()
        if source == Source.SELF:
            to_state = AssessmentState.SELF_SUBMITTED
            if assessment.sheets.filter(status=SheetStatus.SUBMITTED).exclude(source=Source.SELF).exists():
                to_state = AssessmentState.IN_REVIEW
        else:
            to_state = assessment.state if assessment.state in (AssessmentState.SCORED,) else AssessmentState.IN_REVIEW
        _record(assessment, f"submit_{source}", to_state, user, source=source)
    return sheet


def return_sheet(user, assessment: Assessment, source: str, reason: str) -> ScoreSheet:
    _check_source(source)
    if not access.is_finance_center(user, assessment.institution.district_id):
        raise NotAllowed(_("只有区金融工作中心可以退回评分表"))
    if not (reason or "").strip():
        raise ScoringError(_("退回须填写原因"))
    with transaction.atomic():
        _hold_year(assessment)  # the notice or the publishing waits for this return, or this reads it
        year = year_of(assessment)
        if year.status == YearStatus.PUBLISHED:
            raise StateConflict(_("%(district)s %(year)s 年度结果已发布，不能退回评分表")
                                % {"district": year.district.name, "year": assessment.year})
        if year.status == YearStatus.NOTICE:
            raise StateConflict(_("公示期内评分表已锁定：异议成立后，请在异议处理中重新开放相关评分表"))
        return _return(user, assessment, source, reason)


def _return(user, assessment: Assessment, source: str, reason: str) -> ScoreSheet:
    with transaction.atomic():
        sheet = _sheet(assessment, source, lock=True)
        if sheet.status != SheetStatus.SUBMITTED:
            raise StateConflict(_("“%(source)s”评分表尚未提交，无需退回") % {"source": sheet.get_source_display()})
        sheet.status = SheetStatus.DRAFT
        sheet.returned_reason = reason.strip()
        sheet.returned_at = timezone.now()
        sheet.sums = None  # counted again when it is submitted again
        sheet.save()
        to_state = AssessmentState.SELF_IN_PROGRESS if source == Source.SELF else assessment.state
        _record(assessment, f"return_{source}", to_state, user, reason=reason.strip(), source=source)
    return sheet


# --------------------------------------------------------------------------------------------
# import_scores


SCORE_COLUMNS = ("year", "institution_code", "source", "indicator_code", "value", "note")


def import_scores(dataset, *, submit: bool = False, actor=None) -> ImportReport:
    """Validate every row, then write all of them (and submit touched sheets) or nothing."""
    report = ImportReport()
    rows = list(enumerate(dataset.dict, 2))
    years = sorted({int(y) for _, r in rows if (y := str(r.get("year", "")).strip()).isdigit() and len(y) <= 4})
    codes = {str(r.get("institution_code", "")).strip() for _, r in rows}
    institutions = {i.code: i for i in Institution.objects.filter(code__in=codes).select_related("district")}
    plan = _year_plan(years, {i.district_id for i in institutions.values()})
    indicators = {(i.scheme_id, i.code): i for i in Indicator.objects.filter(
        scheme_id__in={scheme.pk for scheme, _status in plan.values()})}
    submitted = set(ScoreSheet.objects.filter(status=SheetStatus.SUBMITTED, assessment__year__in=years)
                    .values_list("assessment__institution__code", "assessment__year", "source"))
    seen: dict[tuple, int] = {}
    valid: list[tuple[Scheme, Institution, str, Indicator, object, str]] = []
    for line, row in rows:
        year, code, source, ind_code = (str(row.get(c, "")).strip() for c in SCORE_COLUMNS[:4])
        raw, note = row.get("value", ""), str(row.get("note", "") or "").strip()
        problems = []
        institution = institutions.get(code)
        if institution is None:
            problems.append(_("未知机构编码 %(code)s") % {"code": code or _("（空）")})
        scheme = None
        if institution is not None:
            scheme, status = plan.get((institution.district_id, int(year) if year.isdigit() and len(year) <= 4
                                       else -1), (None, None))
            if scheme is None:
                problems.append(_("年度 %(year)s 没有评价方案") % {"year": year or _("（空）")})
            elif status == YearStatus.PUBLISHED:
                problems.append(_("%(district)s %(year)s 年度结果已发布，不能导入评分")
                                % {"district": institution.district.name, "year": year})
            elif status == YearStatus.NOTICE:
                problems.append(_("%(district)s %(year)s 年度处于公示期，评分表已锁定")
                                % {"district": institution.district.name, "year": year})
            elif scheme.status == SchemeStatus.DRAFT:
                problems.append(_("%(year)s 年度方案尚未启用") % {"year": year})
        if source not in Source.values:
            problems.append(_("未知来源 %(source)s，应为 self、inspection 或 third_party")
                            % {"source": source or _("（空）")})
        indicator = indicators.get((scheme.pk, ind_code)) if scheme else None
        if scheme and indicator is None:
            problems.append(_("%(year)s 年度方案中没有指标 %(code)s") % {"year": year, "code": ind_code or _("（空）")})
        value = None
        if indicator is not None:
            try:
                value = rules.parse_entry_value(indicator_spec(indicator), raw)
            except rules.EntryValueError as exc:
                problems.append(str(exc))
        if institution and scheme and (code, scheme.year, source) in submitted:
            problems.append(_("%(code)s 的“%(source)s”评分表已提交，不能修改")
                            % {"code": code, "source": Source(source).label})
        key = (year, code, source, ind_code)
        if key in seen:
            problems.append(_("与第 %(line)s 行重复（同一机构、来源、指标）") % {"line": seen[key]})
        seen.setdefault(key, line)
        if problems:
            report.problems.append(RowProblem(line, "；".join(problems)))
        else:
            valid.append((scheme, institution, source, indicator, value, note))
    if report.problems:
        return report

    with transaction.atomic():
        # Every district-year the file writes to, held (SHARE) in id order before anything else, as the
        # aggregation locks its batch in id order: the notice and the publishing wait for the import, or
        # the import reads their new status below.
        _hold_years({(institution.district_id, scheme.year) for scheme, institution, *_rest in valid})
        # The file's sheets locked in one order (institution, year, source), not the rows': two imports
        # sharing sheets then wait for each other instead of each holding a sheet the other needs next
        # (PostgreSQL aborted one of them: «deadlock detected»).
        wanted: dict[tuple[int, int, str], tuple[Scheme, Institution]] = {}
        for scheme, institution, source, *_rest in valid:
            wanted.setdefault((institution.pk, scheme.year, source), (scheme, institution))
        sheets: dict[tuple[int, int, str], ScoreSheet] = {}  # in that order, which every later step keeps
        for key in sorted(wanted, key=lambda k: (k[0], k[1], Source.values.index(k[2]))):
            scheme, institution = wanted[key]
            assessment = ensure_assessment(institution, scheme.year)
            # Checked again now that the year and the sheet are held: the notice, the publishing, a
            # submission or the district's own scheme may have come since the rows were checked.
            sheets[key] = _sheet(assessment, key[2], lock=True)
            refusal = _frozen_for_import(assessment, sheets[key], scheme)
            if refusal:
                transaction.set_rollback(True)
                return ImportReport(problems=[RowProblem(1, refusal)])
        for scheme, institution, source, indicator, value, note in valid:
            sheet = sheets[(institution.pk, scheme.year, source)]
            fields = {"points": None if isinstance(value, bool) else value,
                      "hit": value if isinstance(value, bool) else None, "note": note,
                      "updated_by": actor}
            entry, created = SheetEntry.objects.get_or_create(sheet=sheet, indicator=indicator, defaults=fields)
            if created:
                report.created += 1
            else:
                SheetEntry.objects.filter(pk=entry.pk).update(version=F("version") + 1, updated_at=timezone.now(),
                                                              **fields)
                report.updated += 1
        for sheet in sheets.values():
            assessment = sheet.assessment
            if assessment.state == AssessmentState.NOT_STARTED:
                _record(assessment, "import", AssessmentState.SELF_IN_PROGRESS, actor)
        if submit:
            for sheet in sheets.values():
                if sheet.source == Source.SELF and (lacking := missing_evidence(sheet)):
                    report.problems.append(RowProblem(1, _("%(code)s 自评表缺少佐证：%(codes)s") % {
                        "code": sheet.assessment.institution.code, "codes": "、".join(lacking)}))
            if report.problems:
                transaction.set_rollback(True)
                report.created = report.updated = 0
                return report
            # Each submission locks its assessment: in the sheets' order too (an institution's self-assessment
            # before the others' sheets, as the assessment's state expects).
            for sheet in sheets.values():
                submit_sheet(actor, Assessment.objects.get(pk=sheet.assessment_id), sheet.source, as_operator=True)
    return report


def _hold_years(pairs: set[tuple[int, int]]) -> None:
    """Inside a transaction: `_hold_year` for several (district id, year) at once, in id order (created
    on first use)."""
    if connection.vendor != "postgresql" or not pairs:
        return
    ids = sorted(district_year(district_id, year).pk for district_id, year in pairs)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM (SELECT 1 FROM scoring_districtyear WHERE id = ANY(%s)"
                       " ORDER BY id FOR SHARE) AS held", [ids])


def _frozen_for_import(assessment: Assessment, sheet: ScoreSheet, scheme: Scheme) -> str:
    """Why the import may not write into this sheet now (its year held, the sheet locked), or "".
    `scheme`: the one the rows were checked against."""
    year = year_of(assessment)
    names = {"district": year.district.name, "year": year.year}
    if year.scheme_id != scheme.pk:
        return _("%(district)s %(year)s 年度已改用新的评价方案，请刷新页面后重新填写") % names
    if year.status == YearStatus.PUBLISHED:
        return _("%(district)s %(year)s 年度结果已发布，不能导入评分") % names
    if year.status == YearStatus.NOTICE:
        return _("%(district)s %(year)s 年度处于公示期，评分表已锁定") % names
    if sheet.status == SheetStatus.SUBMITTED:
        return _("%(code)s 的“%(source)s”评分表已提交，不能修改") % {
            "code": assessment.institution.code, "source": sheet.get_source_display()}
    return ""


def _year_plan(years: list[int], district_ids: set[int]) -> dict[tuple[int, int], tuple[Scheme, str]]:
    """(district id, year) -> (the scheme it uses, the year's status), in three queries."""
    started = {(y.district_id, y.year): (y.scheme, y.status)
               for y in DistrictYear.objects.filter(year__in=years, district_id__in=district_ids)
               .select_related("scheme")}
    schemes = {(s.district_id, s.year): s for s in Scheme.objects.filter(year__in=years).filter(
        Q(district_id__in=district_ids) | Q(district__isnull=True))}
    plan = {}
    for district_id in district_ids:
        for year in years:
            if (district_id, year) in started:
                plan[district_id, year] = started[district_id, year]
            elif (scheme := schemes.get((district_id, year)) or schemes.get((None, year))) is not None:
                plan[district_id, year] = (scheme, YearStatus.OPEN)
    return plan


# --------------------------------------------------------------------------------------------
# Aggregation (set-based)


def complaint_changes_since(year: int, since) -> list[tuple[int, int, object]]:
    """(district id, institution id, latest) of the institutions whose complaint counts
    (`complaint_counts`) changed after `since`."""
    from complaints.selectors import outcome_changes_since

    return outcome_changes_since(year, since)


def stale_complaint_counts(dy: DistrictYear) -> int:
    """How many of the district's results were computed from other (substantiated, partially
    substantiated) complaint counts than the complaints give now: one grouped query of the district's
    cases beside the results' stored counts."""
    from complaints.selectors import outcome_counts_by_institution

    now = outcome_counts_by_institution(dy.year, district=dy.district_id)
    return sum(1 for institution_id, full, partial in Result.objects.filter(
        year=dy.year, district_id=dy.district_id).values_list("institution_id", "complaints_substantiated",
                                                             "complaints_partial")
               if now.get(institution_id, (0, 0)) != (full, partial))


def complaint_counts(year: int, institutions: Iterable[int] | None = None,
                     districts: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
    """Institution id -> (substantiated, partially substantiated) complaints received in `year` (of
    those institutions, in those districts, when given)."""
    from complaints.selectors import outcome_counts_by_institution

    return outcome_counts_by_institution(year, institutions=institutions, districts=districts)


@dataclass(frozen=True)
class AggregationSummary:
    year: int
    district: str
    institutions: int
    written: int
    changed: int
    removed: int
    colours: dict[str, int]

    def line(self) -> str:
        shares = "，".join(f"{rules.COLOUR_NAMES_ZH[c]} {n}" for c, n in self.colours.items() if n)
        return _("%(district)s %(year)s 年度汇总完成：%(institutions)s 家机构有结果，变化 %(changed)s 条，"
                 "移除 %(removed)s 条（%(shares)s）") % {
            "district": self.district, "year": self.year, "institutions": self.institutions,
            "changed": self.changed, "removed": self.removed, "shares": shares or _("无结果")}


def _submitted_sheets_sql(districts: int, institutions: int = 0) -> str:
    """The districts' submitted sheets of one year, one row each: (sheet id, institution id, source,
    category, district id, the district-year's scheme id, the stored sums). `institutions`:
    the number of institution ids the sheets are further restricted to (an incremental run), 0 for
    whole districts."""
    return f"""
SELECT s.id, a.institution_id, s.source, inst.category, inst.district_id, dy.scheme_id, s.sums
FROM {ScoreSheet._meta.db_table} s
JOIN {Assessment._meta.db_table} a ON a.id = s.assessment_id
JOIN {Institution._meta.db_table} inst ON inst.id = a.institution_id
JOIN {DistrictYear._meta.db_table} dy ON dy.district_id = inst.district_id AND dy.year = a.year
WHERE a.year = %s AND inst.district_id IN ({", ".join(["%s"] * districts)}) AND s.status = 'submitted'
{f"AND a.institution_id IN ({', '.join(['%s'] * institutions)})" if institutions else ""}
"""  # noqa: S608 (table names from the models' meta; values are parameters)


def _sheet_rows(years: list[DistrictYear], institutions: list[int] | None = None) -> list[tuple]:
    """The submitted sheets of the district-years (all of one year), of those institutions when given:
    (sheet id, institution id, source, category, district id, scheme id, the stored sums as read)."""
    district_ids = [dy.district_id for dy in years]
    only = list(institutions or ())
    with connection.cursor() as cursor:  # client-side: PostgreSQL never parallelises a DECLAREd cursor
        cursor.execute(_submitted_sheets_sql(len(district_ids), len(only)), [years[0].year, *district_ids, *only])
        return cursor.fetchall()


def _sheet_sums(rows: list[tuple], keys: dict[int, str], institutions: list[int] | None = None,
                pending: list[sheet_sums.Pending] | None = None, recount: Iterable[int] | None = None,
                before_counting: Callable[[], None] | None = None) -> list[tuple]:
    """(institution id, source, category, district id, (items, basic, bonus, red) as `SheetSums` has
    them) for each submitted sheet of `rows` (`_sheet_rows`; `keys`: the schemes' map keys).

    The sums stored at submission are used when they were counted against the scheme's map of now;
    the others (a sheet submitted before sums were stored, loaded in bulk, or whose scheme's map
    changed since) are counted from the entries here, in one statement per chunk, and added to
    `pending` to be stored after the run. An incremental run (`institutions`) counts every sheet of
    those institutions from the entries: they are few, and so a change made behind the portal's back
    is taken in too; so are the sheets of the institutions in `recount`. The database is used only
    for that counting, after `before_counting()` (the aggregation's thread on the same connection is
    joined there)."""
    only = list(institutions or ())
    again = set(recount or ())
    out, due = [], []
    read = sheet_sums.read
    for sheet_id, institution_id, source, category, district_id, scheme_id, raw in rows:
        sums = None if only or institution_id in again else read(raw, keys[scheme_id])
        if sums is None:
            due.append((sheet_id, len(out)))
        out.append([institution_id, source, category, district_id, sums])
    if due:
        if before_counting:
            before_counting()
        ids = [sheet_id for sheet_id, _ in due]
        counted = sheet_sums.from_entries(ids, keys)
        # When each was last changed, in the run's snapshot: the sums are stored only on a sheet still as
        # it was read (sheet_sums.store). Read for these sheets only (parsing every sheet's time was a
        # tenth of a whole run's reading).
        changed = {}
        for start in range(0, len(ids) if pending is not None else 0, sheet_sums.CHUNK):
            changed.update(ScoreSheet.objects.filter(pk__in=ids[start:start + sheet_sums.CHUNK])
                           .values_list("pk", "updated_at"))
        for sheet_id, index in due:
            sums = counted[sheet_id]
            out[index][4] = (sums.items, sums.basic, sums.bonus, sums.red)
            if pending is not None and sheet_id in changed:
                pending.append(sheet_sums.Pending(sheet_id, changed[sheet_id], counted[sheet_id]))
    return out


@dataclass
class ComputedResult:
    institution_id: int
    category: str
    values: rules.ResultValues
    substantiated: int
    partial: int
    status: str
    rank: int = 0
    category_rank: int = 0
    district_id: int | None = None
    # The per-item summary stored with the result (`Result.item_cents`: item number as text -> cents).
    item_cents: dict[str, int] = field(default_factory=dict)

    @property
    def colour(self) -> str:
        return self.values.colour

    @property
    def red_line(self) -> bool:
        return self.values.red_line

    @property
    def total(self) -> Decimal:
        return self.values.total

    def field_values(self) -> dict:
        v = self.values
        values = {"category": self.category, "basic": v.basic, "bonus": v.bonus, "deduction": v.deduction,
                  "total": v.total, "red_line": v.red_line, "colour": v.colour, "rank": self.rank,
                  "category_rank": self.category_rank, "status": self.status, "sources": list(v.sources),
                  "fiscal_tender": v.linkage, "complaints_substantiated": self.substantiated,
                  "complaints_partial": self.partial, "item_cents": self.item_cents,
                  **linkage_field_values(v.uses)}
        # The COPY path writes the values in COMPARED_FIELDS' order.
        return {name: values[name] for name in COMPARED_FIELDS}


_SOURCE_INDEX = {source: n for n, source in enumerate(rules.SOURCES)}

# About how many results `compute_year` hands to `on_group` at a time (whole districts): a batch's first
# groups are written while the rules of the next ones run (`_aggregate_districts`).
_COPY_GROUP = 150


def compute_year(years: DistrictYear | list[DistrictYear],
                 progress: Callable[[int], None] | None = None,
                 institutions: Iterable[int] | None = None,
                 pending: list[sheet_sums.Pending] | None = None,
                 recount: Iterable[int] | None = None,
                 on_read: Callable[[list[int]], None] | None = None,
                 on_group: Callable[[list[ComputedResult]], None] | None = None,
                 before_counting: Callable[[], None] | None = None) -> list[ComputedResult]:
    """The results of one district-year, or of several of one year (unsaved, each ranked within its
    district), from the submitted sheets' sums (`_sheet_sums`: stored at submission, counted from the
    entries where missing) plus the complaints' counts. Each result carries its per-item summary
    (`item_cents`). `pending` collects the sums counted here, to be stored;
    `recount`: institutions whose sheets are counted from the entries whatever sums are stored.

    The rules are applied in their prepared form (`rules.result_rule`: weights, sources and linkage
    resolved once per scheme and set of present sources), on sums in tenths, without any rounding
    but the rules' own.

    `institutions` (ids): only those institutions' results, ranked among themselves (an incremental
    run ranks them with the district's stored results: `_rank_with_stored`).

    `on_read`: called with the institutions that get a result, once the sheets are read from the
    database and before their sums are parsed and the rules applied in Python (the aggregation marks
    their assessments scored meanwhile, `core.overlap.Alongside`). After it the database is used only
    to count sheets whose stored sums cannot be used, after `before_counting()`.

    `on_group`: called with the results of whole districts, ranked, in groups of about `_COPY_GROUP`
    as they are done (the aggregation writes them meanwhile); the results returned are those groups in
    the same order, each district's in the order read."""
    years = [years] if isinstance(years, DistrictYear) else list(years)
    only = None if institutions is None else sorted(set(institutions))
    if not years or only == []:
        return []
    by_scheme = {dy.scheme_id: dy.scheme for dy in years}  # parsed once per scheme, not per district
    by_scheme = {scheme_id: scheme_params(scheme) for scheme_id, scheme in by_scheme.items()}
    params = {dy.district_id: by_scheme[dy.scheme_id] for dy in years}
    rows = _sheet_rows(years, only)
    keys = sheet_sums.scheme_keys(set(by_scheme))
    counts = complaint_counts(years[0].year, only, [dy.district_id for dy in years])
    schemes = {dy.district_id: dy.scheme_id for dy in years}
    item_cents = item_summary.ItemSummary(schemes.values())
    # Who gets a result follows from the sources present alone (rules.result_rule): known before the
    # sums are parsed, so that the aggregation marks their assessments meanwhile.
    present: dict[int, tuple[int, list]] = {}
    for _sheet, institution_id, source, _category, district_id, _scheme, _raw in rows:
        sources = present.get(institution_id)
        if sources is None:
            sources = present[institution_id] = (district_id, [])
        sources[1].append(source)
    rule_of = {}
    for institution_id, (district_id, sources) in present.items():
        rule = rules.result_rule(params[district_id], tuple(sources))
        if rule is not None:
            rule_of[institution_id] = rule
    if on_read:
        on_read(list(rule_of))
    # institution id -> [category, district id, present sources, basic tenths per source, inspection bonus,
    # red-line hit, item number -> basic tenths per source]
    sheets: dict[int, list] = {}
    inspection = Source.INSPECTION
    for institution_id, source, category, district_id, (counted_items, basic, bonus, red) in _sheet_sums(
            rows, keys, only, pending, recount, before_counting):
        acc = sheets.get(institution_id)
        if acc is None:
            acc = sheets[institution_id] = [category, district_id, [], [0, 0, 0], 0, False, {}]
        acc[2].append(source)
        n = _SOURCE_INDEX[source]
        acc[3][n] += basic
        items = acc[6]
        for number, tenths in counted_items:
            per_source = items.get(number)
            if per_source is None:
                per_source = items[number] = [0, 0, 0]
            per_source[n] += tenths
        if source == inspection:
            acc[4] += bonus
        if red > 0:
            acc[5] = True
    if progress:
        progress(40)
    bonuses: dict[int, Decimal] = {}
    ruled = [(institution_id, rule, sheets[institution_id]) for institution_id, rule in rule_of.items()]
    ruled.sort(key=_district_of)  # each district's results together, in the order read
    results: list[ComputedResult] = []
    sent = 0
    for district_id, members in groupby(ruled, key=_district_of):
        scheme_id = schemes[district_id]
        group = []
        for institution_id, rule, (category, _district, _present, basic, bonus, red, items) in members:
            bonus_points = bonuses.get(bonus)
            if bonus_points is None:
                bonus_points = bonuses[bonus] = Decimal(bonus).scaleb(-1)
            substantiated, partial = counts.get(institution_id, (0, 0))
            values = rule.values(rule.basic.tenths(basic), bonus_points, red, substantiated, partial)
            group.append(ComputedResult(
                institution_id, category, values, substantiated, partial, values.status, district_id=district_id,
                item_cents=item_cents(scheme_id, rule.basic, items)))
        _assign_ranks(group)
        results += group
        if on_group and len(results) - sent >= _COPY_GROUP:
            on_group(results[sent:])
            sent = len(results)
    if on_group and sent < len(results):
        on_group(results[sent:])
    if progress:
        progress(60)
    return results


def _district_of(ruled: tuple) -> int:
    return ruled[2][1]


def _assign_ranks(results: list[ComputedResult]) -> None:
    for rank, result in zip(rules.competition_ranks([(r.red_line, r.total) for r in results]), results,
                            strict=True):
        result.rank = rank
    by_category: dict[str, list[ComputedResult]] = defaultdict(list)
    for result in results:
        by_category[result.category].append(result)
    for group in by_category.values():
        for rank, result in zip(rules.competition_ranks([(r.red_line, r.total) for r in group]), group,
                                strict=True):
            result.category_rank = rank


COMPARED_FIELDS = ("category", "basic", "bonus", "deduction", "total", "red_line", "colour", "rank",
                   "category_rank", "status", "sources", "fiscal_tender", "complaints_substantiated",
                   "complaints_partial", "party_building", "performance_appraisal", "fiscal_tender_points",
                   "party_building_points", "performance_appraisal_points", "linkage_labels", "item_cents")


# The linkage columns among COMPARED_FIELDS, in their order (`_copy_line` writes them together).
_LINKAGE_FIELDS = COMPARED_FIELDS[COMPARED_FIELDS.index("party_building"):COMPARED_FIELDS.index("linkage_labels") + 1]


def linkage_field_values(uses) -> dict:
    """A result's stored linkage columns from its outcomes per use (rules.resolve_linkage)."""
    values: dict = {"linkage_labels": {use: outcome.label for use, outcome in uses.items()}}
    for use, outcome in uses.items():
        if use != "fiscal_tender":
            values[use] = outcome.code
        values[f"{use}_points"] = outcome.points
    return values


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (list, dict)):
        text = orjson.dumps(value).decode()  # UTF-8 as it is; a tenth of json.dumps' time
        # JSON writes a tab or a line break only escaped, with a backslash: without one there is
        # nothing to escape (most documents: the item summaries are digits only).
        return text if "\\" not in text else text.replace("\\", "\\\\")
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _copy_line(r: ComputedResult, year: int, run_id: int | None, now: str, texts: dict) -> str:
    """One COPY line of `_ResultCopy.text`: the row (institution, year, district,
    COMPARED_FIELDS, run, computed_at) as `_copy_text` writes each value, with the parts many results
    share (category; sources; the linkage columns of one set of outcomes) turned into text once per
    batch (`texts`) instead of once per result."""
    v = r.values
    category = texts.get(("category", r.category))
    if category is None:
        category = texts["category", r.category] = _copy_text(r.category)
    sources = texts.get(v.sources)
    if sources is None:
        sources = texts[v.sources] = _copy_text(list(v.sources))
    linkage = texts.get(id(v.uses))
    if linkage is None:
        fields = linkage_field_values(v.uses)
        linkage = texts[id(v.uses)] = (_copy_text(v.linkage), "\t".join(
            _copy_text(fields[name]) for name in _LINKAGE_FIELDS), v.uses)
    return (f"{r.institution_id}\t{year}\t{r.district_id}\t{category}\t{v.basic}\t{v.bonus}\t{v.deduction}\t"
            f"{v.total}\t{'t' if v.red_line else 'f'}\t{_copy_text(v.colour)}\t{r.rank}\t{r.category_rank}\t"
            f"{_copy_text(r.status)}\t{sources}\t{linkage[0]}\t{r.substantiated}\t{r.partial}\t{linkage[1]}\t"
            f"{_copy_text(r.item_cents)}\t{_copy_text(run_id)}\t{now}\n")


def _mark_scored_sql(institutions: list[int], year: int) -> tuple[str, list]:
    """The statement marking the assessments of `institutions` in review scored (PostgreSQL: the
    institutions as one array), with its parameters."""
    return (f"UPDATE {Assessment._meta.db_table} a SET state = %s, updated_at = now()"  # noqa: S608
            f" WHERE a.institution_id = ANY(%s::bigint[]) AND a.year = %s AND a.state = %s",
            [AssessmentState.SCORED, institutions, year, AssessmentState.IN_REVIEW])


_UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


class _ResultCopy:
    """Writing a batch's results on PostgreSQL, in steps a thread can take on the caller's connection
    while the rules of the batch's next districts run (`_aggregate_districts`, `core.overlap.Alongside`):

    - `begin`: the assessments marked scored, and whether any result of these districts is stored;
    - `copy` of each group of results (`text`, made by the caller): on a first run (none stored)
      straight into the table, the foreign keys checked as each COPY ends, so that nothing is left
      for the commit; otherwise into a temporary table;
    - `finish`: otherwise, one upsert that touches only rows whose values differ and the districts'
      other results removed (of `only`, in an incremental run). Returns (written, removed) rows per
      district id.

    A first run's COPY fails on the unique (institution, year) when an institution moved here with its
    result still stored under its former district (the district-years are locked by this run, so no
    other run writes their results meanwhile): its savepoint is rolled back and the batch is written
    as any other, from the groups' texts. (A foreign key that fails is raised as it is. The keys are
    set back to deferred checks afterwards, as Django declares them, whatever the caller had set.) The
    steps use only the cursor they are given (in the thread, `django.db.connection` is another
    connection)."""

    _SAVEPOINT = "scoring_result_copy"
    _COLUMNS = ("institution_id", "year", "district_id", *COMPARED_FIELDS, "run_id", "computed_at")

    def __init__(self, years: list[DistrictYear], runs: dict[int, AggregationRun], only: list[int] | None) -> None:
        self.year = years[0].year
        self.district_ids = [dy.district_id for dy in years]
        self.only = only
        self.run_ids = {district_id: run.pk for district_id, run in runs.items()}
        self.now = timezone.now().isoformat()
        self.table = Result._meta.db_table
        self.names = ", ".join(self._COLUMNS)
        self.shared: dict = {}  # the parts many lines share (_copy_line)
        self.texts: list[str] = []  # every group's text, for a first run that turns out not to be one
        self.results: list[ComputedResult] = []
        self.begun = False
        self.fresh = False

    def text(self, results: list[ComputedResult]) -> str:
        year, run_ids, now, shared = self.year, self.run_ids, self.now, self.shared
        return "".join([_copy_line(r, year, run_ids.get(r.district_id), now, shared) for r in results])

    def begin(self, cursor, institutions: list[int]) -> None:
        """One round trip (in a thread each waits for the interpreter's lock to go on): the marking, a
        savepoint with the foreign keys checked per statement from there, and whether any result is
        stored; where one is, the savepoint and the checks are undone with the temporary table made."""
        self.begun = True
        mark, params = _mark_scored_sql(institutions, self.year) if institutions else ("", [])
        in_districts = ", ".join(["%s"] * len(self.district_ids))
        # Table and constraint names are ours; the values are parameters.
        cursor.execute(f"{mark + '; ' if mark else ''}SAVEPOINT {self._SAVEPOINT};"  # noqa: S608
                       f" {foreign_key_checks_sql(cursor, Result, immediate=True) or 'SELECT 1'};"
                       f" SELECT EXISTS (SELECT 1 FROM {self.table} r WHERE r.year = %s"
                       f" AND r.district_id IN ({in_districts}))", [*params, self.year, *self.district_ids])
        self.fresh = not cursor.fetchone()[0]
        if not self.fresh:
            cursor.execute(f"RELEASE SAVEPOINT {self._SAVEPOINT};"
                           f" {foreign_key_checks_sql(cursor, Result, immediate=False) or 'SELECT 1'};"
                           f" {self._temporary_sql()}")

    def copy(self, cursor, text: str, results: list[ComputedResult]) -> None:
        self.texts.append(text)
        self.results += results
        if not self.fresh:
            self._copy(cursor, "scoring_result_new", text)
            return
        try:
            self._copy(cursor, self.table, text)
        except IntegrityError as exc:
            if getattr(exc.__cause__, "pgcode", None) != _UNIQUE_VIOLATION:
                raise  # a foreign key checked as the COPY ended: a real error, not a moved institution
            cursor.execute(f"ROLLBACK TO SAVEPOINT {self._SAVEPOINT}")
            self._end_fresh(cursor)
            self._temporary(cursor)
            for earlier in self.texts:
                self._copy(cursor, "scoring_result_new", earlier)

    def finish(self, cursor) -> tuple[Counter, Counter]:
        if self.fresh:
            self._end_fresh(cursor)
            return Counter(r.district_id for r in self.results), Counter()
        return self._upsert(cursor)

    def _end_fresh(self, cursor) -> None:
        self.fresh = False
        cursor.execute(f"RELEASE SAVEPOINT {self._SAVEPOINT};"
                       f" {foreign_key_checks_sql(cursor, Result, immediate=False) or 'SELECT 1'}")

    def _copy(self, cursor, table: str, text: str) -> None:
        with cursor.db.wrap_database_errors:  # Django's errors, as the cursor's own statements raise them
            cursor.cursor.copy_expert(f"COPY {table} ({self.names}) FROM STDIN", io.StringIO(text))

    def _temporary(self, cursor) -> None:
        cursor.execute(self._temporary_sql())

    def _temporary_sql(self) -> str:
        return (f"CREATE TEMPORARY TABLE scoring_result_new ON COMMIT DROP AS"  # noqa: S608
                f" SELECT {self.names} FROM {self.table} WITH NO DATA")

    def _upsert(self, cursor) -> tuple[Counter, Counter]:
        table, names, only, district_ids = self.table, self.names, self.only, self.district_ids
        in_districts = ", ".join(["%s"] * len(district_ids))
        assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in ("district_id", *COMPARED_FIELDS, "run_id",
                                                                  "computed_at"))
        # The district too: an institution that moved keeps its stored row, which must move with it.
        old = ", ".join("r." + c for c in ("district_id", *COMPARED_FIELDS))
        new = ", ".join("EXCLUDED." + c for c in ("district_id", *COMPARED_FIELDS))
        # Table and column names are ours; no user input reaches this SQL.
        cursor.execute(f"INSERT INTO {table} AS r ({names}) SELECT {names} FROM scoring_result_new"  # noqa: S608
                       f" ON CONFLICT (institution_id, year) DO UPDATE SET {assignments}"
                       f" WHERE ({old}) IS DISTINCT FROM ({new}) RETURNING r.district_id")
        written = Counter(row[0] for row in cursor.fetchall())
        # The batch's institutions as one array (PostgreSQL 14+ hashes a long `= ANY` / `<> ALL` list):
        # no statistics of the temporary table needed (an ANALYZE of it was 6 % of a batch), and no
        # nested loop over it (NOT EXISTS against its empty statistics took seconds at 50,000 rows).
        restricted = f" AND r.institution_id IN ({', '.join(['%s'] * len(only))})" if only is not None else ""
        kept = [r.institution_id for r in self.results]
        cursor.execute(f"DELETE FROM {table} r WHERE r.year = %s AND r.district_id IN ({in_districts})"  # noqa: S608
                       f" AND r.institution_id <> ALL(%s::bigint[])"
                       f"{restricted} RETURNING r.district_id", [self.year, *district_ids, kept, *(only or ())])
        removed = Counter(row[0] for row in cursor.fetchall())
        cursor.execute("DROP TABLE scoring_result_new")
        return written, removed

    def write_rest(self, cursor, results: list[ComputedResult]) -> tuple[Counter, Counter]:
        """Whatever the steps taken alongside have not written of `results` (all of them when nothing
        was taken alongside), then `finish`."""
        if not self.begun:
            self.begin(cursor, [r.institution_id for r in results])
        if len(self.results) < len(results):
            rest = results[len(self.results):]
            self.copy(cursor, self.text(rest), rest)
        return self.finish(cursor)


def _write_results_orm(dy: DistrictYear, results: list[ComputedResult],
                       run: AggregationRun | None, only: list[int] | None = None) -> tuple[int, int]:
    """The portable path (SQLite): compare with the stored rows, upsert the changed ones."""
    year = dy.year
    stored = Result.objects.filter(year=year, district_id=dy.district_id)
    if only is not None:
        stored = stored.filter(institution_id__in=only)
    existing = {r.institution_id: r for r in stored}
    now = timezone.now()
    changed = []
    for r in results:
        values = r.field_values()
        old = existing.get(r.institution_id)
        if old is None or any(getattr(old, f) != v for f, v in values.items()):
            changed.append(Result(institution_id=r.institution_id, year=year, district_id=dy.district_id, run=run,
                                  computed_at=now, **values))
    Result.objects.bulk_create(changed, batch_size=2000, update_conflicts=True,
                               unique_fields=["institution", "year"],
                               update_fields=["district", *COMPARED_FIELDS, "run", "computed_at"])
    kept = {r.institution_id for r in results}
    stale = [pk for pk in existing if pk not in kept]
    removed = Result.objects.filter(year=year, institution_id__in=stale).delete()[0] if stale else 0
    (Assessment.objects.filter(year=year, institution_id__in=[r.institution_id for r in results],
                               state=AssessmentState.IN_REVIEW)
     .update(state=AssessmentState.SCORED, updated_at=now))
    return len(changed), removed


def _write_results(years: list[DistrictYear], results: list[ComputedResult],
                   runs: dict[int, AggregationRun], only: list[int] | None = None, *,
                   copy: _ResultCopy | None = None) -> tuple[Counter, Counter]:
    """The batch's results written and its assessments marked scored; returns (written, removed) rows
    per district id. PostgreSQL: through `copy`, which may have written groups of them already (in the
    order of `results`)."""
    if connection.vendor == "postgresql":
        copy = copy or _ResultCopy(years, runs, only)
        with connection.cursor() as cursor:
            return copy.write_rest(cursor, results)
    written, removed = Counter(), Counter()
    for dy in years:
        mine = [r for r in results if r.district_id == dy.district_id]
        written[dy.district_id], removed[dy.district_id] = _write_results_orm(dy, mine, runs.get(dy.district_id),
                                                                              only)
    return written, removed


@dataclass
class _StoredRank:
    """A stored result an incremental run did not recompute: what ranking it with the recomputed
    ones needs (`_assign_ranks` reads red_line, total and category and sets the two ranks)."""

    pk: int
    district_id: int
    category: str
    red_line: bool
    total: Decimal
    rank: int
    category_rank: int
    colour: str
    was: tuple[int, int]


def _by_district(years: list[DistrictYear], results: list) -> dict[int, list]:
    """District id -> its results (every district of `years`, with or without results)."""
    by_district: dict[int, list] = {dy.district_id: [] for dy in years}
    for r in results:
        by_district[r.district_id].append(r)
    return by_district


def _rank_with_stored(years: list[DistrictYear], results: list[ComputedResult],
                      only: list[int]) -> dict[int, list]:
    """An incremental run's ranking: each district's recomputed results ranked together with its
    stored results of every other institution (one query), by the same rule as a whole run
    (`_assign_ranks`). Returns district id -> every result of it (recomputed and stored)."""
    district_ids = [dy.district_id for dy in years]
    by_district = _by_district(years, results)
    others = (Result.objects.filter(year=years[0].year, district_id__in=district_ids)
              .exclude(institution_id__in=only).order_by()
              .values_list("pk", "district_id", "category", "red_line", "total", "rank", "category_rank", "colour"))
    for pk, district_id, category, red_line, total, rank, category_rank, colour in others:
        by_district[district_id].append(_StoredRank(pk, district_id, category, red_line, total, rank, category_rank,
                                                    colour, (rank, category_rank)))
    for group in by_district.values():
        _assign_ranks(group)
    return by_district


def _write_ranks(moved: list[_StoredRank], runs: dict[int, AggregationRun]) -> Counter:
    """The new ranks of stored results an incremental run moved (with the run and time, as a whole run
    writes a changed row). Returns the rows written per district id."""
    if not moved:
        return Counter()
    now = timezone.now()
    update_each(Result, [Result(pk=s.pk, rank=s.rank, category_rank=s.category_rank,
                                run_id=runs[s.district_id].pk if s.district_id in runs else None, computed_at=now)
                         for s in moved], ["rank", "category_rank", "run", "computed_at"])
    return Counter(s.district_id for s in moved)


# Seconds a batch runs before its progress is written to the cache (`aggregate_districts`).
_PROGRESS_AFTER = 1.0


def _progress_key(run_id: int) -> str:
    return f"scoring:aggregation-progress:{run_id}"


def run_progress(run: AggregationRun) -> int:
    if run.status in (AggregationRun.Status.SUCCEEDED, AggregationRun.Status.FAILED):
        return run.progress
    return cache.get(_progress_key(run.pk), run.progress)


def aggregate_year(year: int, district: District | int, run: AggregationRun | None = None) -> AggregationSummary:
    """Recompute one district's results for the year from one consistent snapshot, rank them within
    the district, and write only what changed. A published district-year is refused.

    Everything happens in one transaction: a worker killed half-way leaves the previous results
    in place, and running it twice on the same data writes nothing the second time.
    """
    district_id = district if isinstance(district, int) else district.pk
    return aggregate_districts(year, [district_id], {district_id: run} if run is not None else None)[district_id]


def aggregate_districts(year: int, district_ids: Iterable[int],
                        runs: dict[int, AggregationRun] | None = None,
                        institutions: Iterable[int] | None = None) -> dict[int, AggregationSummary]:
    """`aggregate_year` for several districts at once, set-based (issue 16): the same statements as
    for one district, each over all of them, so a spread aggregation of thousands of small districts
    pays the fixed costs (locks, temporary tables, upserts, the item summary) once per batch, not
    once per district. Each district is still ranked on its own, and all or none are written. A
    published district-year among them refuses the whole batch. `runs`: district id -> its run.

    `institutions` (ids; an incremental re-aggregation, `start_year_aggregation(only_changed=True)`):
    only these institutions' results are recomputed (and their per-item summary); the districts'
    other stored results are kept and re-ranked together with them, so the ranks are those of a
    whole run. The caller names every institution whose inputs changed since the districts' last
    aggregation (`changes_since_aggregation`)."""
    runs = runs or {}
    ids = sorted(set(district_ids))
    only = None if institutions is None else sorted(set(institutions))

    started = time.monotonic()

    def progress(pct: int) -> None:
        # Shown only for a batch that takes a while: most take a quarter of a second, where five writes
        # to the cache per batch were a twentieth of its time (issue 16); their runs go from running to
        # succeeded.
        if runs and time.monotonic() - started >= _PROGRESS_AFTER:
            cache.set_many({_progress_key(run.pk): pct for run in runs.values()}, 3600)

    pending: list[sheet_sums.Pending] = []
    with _aggregation_lock(ids, year), _collector_paused():
        summaries = _aggregate_districts(year, ids, progress, runs, only, pending)
        _store_counted(pending)
    return summaries


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector paused while a batch builds its tens of thousands of small
    objects (sums, results, COPY lines; none of them in a reference cycle): every 700 allocations it
    otherwise walked the growing heap again, a quarter of a batch's time in Python (issue 16). Cycles
    made meanwhile are collected once it runs again. The switch is the process's: the portal's workers
    run one task per process (prefork), so nothing else runs meanwhile."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _store_counted(pending: list[sheet_sums.Pending]) -> None:
    """Stores the sheet sums a run counted from the entries (after its transaction: the run's snapshot
    stays read-only, and a sheet returned meanwhile is left alone). Failing here costs speed, and a
    change made behind the portal's back is then trusted away by the next whole run (sheet_sums)."""
    if not pending:
        return
    try:
        stored = sheet_sums.store(pending)
    except DatabaseError:
        log.warning("sums of %s sheet(s) counted by an aggregation not stored", len(pending), exc_info=True)
        return
    log.info("aggregation stored the sums of %s of %s sheet(s) it counted from their entries", stored, len(pending))


# The advisory lock's key: this namespace in the high bits, then the district and the year.
_AGGREGATION_LOCK_NAMESPACE = 0x5C01


@contextmanager
def _aggregation_lock(district_ids: list[int], year: int):
    """PostgreSQL: one aggregation of a district-year at a time; a second waits for the first.

    Without it two concurrent runs both took a REPEATABLE READ snapshot, then queued on the
    district-year's row lock, and the second failed with "could not serialize access". The lock is
    taken before the snapshot: outside a transaction session locks (released in `finally`, or by
    PostgreSQL when the connection ends), so SET TRANSACTION stays the transaction's first
    statement; inside a caller's transaction transaction locks. Several districts are locked in
    ascending order, so two overlapping batches never deadlock.
    """
    if connection.vendor != "postgresql":
        yield
        return
    keys = sorted((_AGGREGATION_LOCK_NAMESPACE << 48) | ((district_id & 0xFFFFFFFF) << 16) | (year & 0xFFFF)
                  for district_id in district_ids)
    # One statement for all of them (a batch holds dozens of districts): unnest hands the sorted keys
    # to the lock function in array order.
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [keys])
        yield
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(pg_advisory_lock(k)) FROM unnest(%s::bigint[]) AS k", [keys])
        yield
    finally:
        # Every key, even after a failure half-way through the locking statement: unlocking a lock this
        # session does not hold only returns false (and never touches another session's lock).
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(CASE WHEN pg_advisory_unlock(k) THEN 1 END)"
                               " FROM unnest(%s::bigint[]) AS k", [keys])
        except Exception:  # the connection is gone, and the session's locks with it
            log.warning("aggregation locks of districts %s, %s not released explicitly", district_ids, year)


def _aggregate_districts(year: int, district_ids: list[int], progress,
                         runs: dict[int, AggregationRun],
                         only: list[int] | None = None,
                         pending: list[sheet_sums.Pending] | None = None) -> dict[int, AggregationSummary]:
    # PostgreSQL accepts SET TRANSACTION only as a transaction's first statement: inside a caller's
    # transaction (admin action, script, test) this atomic is a savepoint and keeps the caller's level.
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if outermost:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                # The server default (4 MB) makes a nation-sized grouping spill to disk.
                cursor.execute("SET LOCAL work_mem = '64MB'")
                # The index-driven batch statements are estimated "expensive" (hundreds of thousands
                # of cost units) though they run in well under a second: with JIT on, PostgreSQL spent
                # 2.5 s compiling each (measured on a batch of 36 districts, 2,040 institutions).
                cursor.execute("SET LOCAL jit = off")
                # A batch reads its districts' institutions, assessments and sheets through their indexes,
                # pages the server holds in memory; at the default cost of a random page (4, a spinning
                # disk's) the planner scanned every assessment of the year instead, in parallel, for each
                # batch (41 ms against 27 ms for 2,040 institutions; docs/deployment.md suggests 1.1 for
                # the whole server).
                cursor.execute("SET LOCAL random_page_cost = 1.1")
        # Serialises concurrent runs (and notice, publishing) of the same district-years.
        locked = {dy.district_id: dy for dy in DistrictYear.objects.select_related("scheme", "district")
                  .select_for_update(of=("self",)).filter(year=year, district_id__in=district_ids).order_by("pk")}
        years = [locked.get(district_id) or district_year(district_id, year, lock=True)
                 for district_id in district_ids]
        for dy in years:
            _refuse_published(dy)
        # A whole run counts again the sheets of institutions with an entry saved since the district's
        # last aggregation (none of a submitted sheet through the portal; a change behind its back).
        recount = None if only is not None else _entries_changed_since(
            year, {dy.district_id: dy.aggregated_at for dy in years if dy.aggregated_at})
        now = timezone.now()  # what the sheets were read as of: publishing checks it
        DistrictYear.objects.filter(pk__in=[dy.pk for dy in years]).update(aggregated_at=now)
        for dy in years:
            dy.aggregated_at = now
        progress(10)
        copy = _ResultCopy(years, runs, only) if connection.vendor == "postgresql" else None
        with Alongside() as alongside:
            on_read = on_group = None
            if copy is not None:
                # While the sums are parsed and the rules run here in Python, the server marks the
                # assessments scored and (a first or whole run) writes the results of each group of
                # districts done (issue 16), on the other core, in this transaction.
                def on_read(institutions: list[int]) -> None:
                    alongside.submit(lambda cursor: copy.begin(cursor, institutions))

                if only is None:
                    def on_group(group: list[ComputedResult]) -> None:
                        text = copy.text(group)
                        alongside.submit(lambda cursor: copy.copy(cursor, text, group))
            results = compute_year(years, progress, only, pending, recount, on_read=on_read, on_group=on_group,
                                   before_counting=alongside.wait)
            alongside.wait()
            # Every result of each district after this run: the recomputed ones, and in an incremental run
            # the stored ones of everyone else, ranked with them.
            everyone = _rank_with_stored(years, results, only) if only is not None else _by_district(years, results)
        progress(80)
        written, removed = _write_results(years, results, runs, only, copy=copy)
        if only is not None:
            written += _write_ranks([r for group in everyone.values() for r in group
                                     if isinstance(r, _StoredRank) and (r.rank, r.category_rank) != r.was], runs)
        colours = {district_id: Counter(r.colour for r in group) for district_id, group in everyone.items()}
        progress(100)
        # One call for the batch (the dashboards queue one warm-up task for all of its districts).
        transaction.on_commit(lambda: _results_changed(year, [dy.district_id for dy in years]))
        return {dy.district_id: AggregationSummary(
            year=year, district=dy.district.name, institutions=len(everyone[dy.district_id]),
            written=written[dy.district_id], changed=written[dy.district_id], removed=removed[dy.district_id],
            colours={colour: colours[dy.district_id][colour] for colour in rules.COLOURS}) for dy in years}


def _entries_changed_since(year: int, last: dict[int, object]) -> set[int]:
    """The institutions of those districts with an entry of `year` saved after the district's last
    aggregation (`last`: district id -> when), through the entries' `updated_at` index."""
    if not last:
        return set()
    changed = (SheetEntry.objects.filter(sheet__assessment__year=year, updated_at__gt=min(last.values()),
                                         sheet__status=SheetStatus.SUBMITTED,
                                         sheet__assessment__institution__district_id__in=list(last))
               .order_by().values_list("sheet__assessment__institution__district_id",
                                       "sheet__assessment__institution_id").annotate(latest=Max("updated_at")))
    return {institution_id for district_id, institution_id, latest in changed if latest > last[district_id]}


def _refuse_published(dy: DistrictYear) -> None:
    if dy.status == YearStatus.PUBLISHED:
        raise StateConflict(_("%(district)s %(year)s 年度结果已发布，已冻结；"
                              "如需重算，请由区金融工作中心说明理由后重新开放")
                            % {"district": dy.district.name, "year": dy.year})


RESULTS_CHANGED_HOOKS: list[Callable[[int, list[int]], None]] = []


def on_results_changed(hook: Callable[[int, list[int]], None]) -> None:
    """Let another app (the dashboards) refresh what it keeps of the results of (year, district ids)
    after scoring changed them: called explicitly by these services once their transaction commits,
    once per aggregation batch with all of its districts."""
    if hook not in RESULTS_CHANGED_HOOKS:
        RESULTS_CHANGED_HOOKS.append(hook)


def _results_changed(year: int, district_ids: list[int]) -> None:
    for hook in RESULTS_CHANGED_HOOKS:
        try:
            hook(year, district_ids)
        except Exception:  # a listener's failure never undoes or blocks scoring's own work
            log.exception("results-changed hook %s failed", hook)


def start_aggregation(year: int, district: District | int, actor=None) -> AggregationRun:
    """Record a run of one district's year and enqueue it once this transaction commits."""
    from .tasks import aggregate_scores_task

    dy = district_year(district, year)
    _refuse_published(dy)
    run = AggregationRun.objects.create(year=year, district_id=dy.district_id,
                                        created_by=actor if getattr(actor, "pk", None) else None)
    enqueue_after_commit(aggregate_scores_task, run.pk)
    return run


@dataclass(frozen=True)
class Changes:
    """What an aggregation of only the changes has to redo (`changes_since_aggregation`): whole
    districts (never aggregated, or their scheme changed), and per other district the institutions
    whose inputs changed since its last aggregation."""

    whole: list[int]
    institutions: dict[int, set[int]]
    ordered: list[int] = field(default_factory=list)  # every district-year not published, by district code

    def districts(self) -> list[int]:
        """The districts to redo, by code."""
        due = set(self.whole) | set(self.institutions)
        return [district_id for district_id in self.ordered if district_id in due]


def changes_since_aggregation(year: int) -> Changes:
    """The district-years of `year` (not published) whose inputs – an assessment, a sheet, an entry, a
    complaint's conclusion or the scheme – changed since their last aggregation, or never aggregated
    (issue 16).

    Set-based, in five queries whatever the number of districts: the district-years, then per table
    the latest change per institution since the oldest of their last aggregations, through the
    `updated_at` indexes and the complaints' `concluded_at` index (a few changed rows among millions
    are found without reading the others).
    """
    rows = list(DistrictYear.objects.filter(year=year).exclude(status=YearStatus.PUBLISHED)
                .order_by("district__code").values_list("district_id", "aggregated_at", "scheme__updated_at"))
    last = {district_id: at for district_id, at, _ in rows if at is not None}
    whole = {district_id for district_id, at, scheme_at in rows if at is None or scheme_at > at}
    institutions: dict[int, set[int]] = defaultdict(set)
    if last:
        since = min(last.values())
        for qs, to_institution, to_district in (
                (Assessment.objects.filter(year=year), "institution_id", "institution__district_id"),
                (ScoreSheet.objects.filter(assessment__year=year), "assessment__institution_id",
                 "assessment__institution__district_id"),
                (SheetEntry.objects.filter(sheet__assessment__year=year), "sheet__assessment__institution_id",
                 "sheet__assessment__institution__district_id")):
            changed = (qs.filter(updated_at__gt=since).order_by().values_list(to_district, to_institution)
                       .annotate(latest=Max("updated_at")))
            _note_changes(changed, last, whole, institutions)
        # A complaint concluded against an institution changes its deduction (SCORING.md step 4).
        _note_changes(complaint_changes_since(year, since), last, whole, institutions)
    return Changes(whole=sorted(whole), institutions=dict(institutions),
                   ordered=[district_id for district_id, _, _ in rows])


def _note_changes(changed, last: dict, whole: set[int], institutions: dict[int, set[int]]) -> None:
    """Adds to `institutions` each (district id, institution id, latest change) of `changed` that came
    after its district's last aggregation (a district redone whole needs no list)."""
    for district_id, institution_id, latest in changed:
        if district_id in last and district_id not in whole and latest > last[district_id]:
            institutions[district_id].add(institution_id)


def districts_to_aggregate(year: int, *, only_changed: bool = False) -> list[int]:
    """The districts of `year` an aggregation of the whole year covers, by code: every district-year
    not published; with `only_changed`, only those with changes (`changes_since_aggregation`)."""
    if only_changed:
        return changes_since_aggregation(year).districts()
    years = DistrictYear.objects.filter(year=year).exclude(status=YearStatus.PUBLISHED)
    return list(years.order_by("district__code").values_list("district_id", flat=True))


# A spread aggregation that creates at least this many runs refreshes the runs table's statistics.
_ANALYZE_RUNS_FROM = 200


def start_year_aggregation(year: int, *, only_changed: bool = False, actor=None) -> list[AggregationRun]:
    """An aggregation of the whole year spread over the workers: one run per district, the runs
    handed out in batches of whole districts of about SCORING_SPREAD_TASK_INSTITUTIONS institutions
    (one task each, acknowledged late and redone by another worker when its worker is lost), then a
    closing step that waits for them all (scoring.finish_year_aggregation). A district bigger than
    that is a batch of its own; a setting of 1 gives one task per district.

    With `only_changed`, only the districts with changes get a run, and a district where fewer than
    half of the institutions changed is redone incrementally: only those institutions recomputed,
    the others' stored results re-ranked with them (`aggregate_districts(institutions=…)`), its
    batches sized by the changed institutions."""
    from .tasks import aggregate_districts_task, finish_year_aggregation_task

    if only_changed:
        changes = changes_since_aggregation(year)
    else:
        ordered = districts_to_aggregate(year)
        changes = Changes(whole=ordered, institutions={}, ordered=ordered)
    district_ids = changes.districts()
    if not district_ids:
        return []
    sizes = dict(Assessment.objects.filter(year=year, institution__district_id__in=district_ids).order_by()
                 .values_list("institution__district_id").annotate(n=Count("id")))
    partial = {district_id: changed for district_id, changed in changes.institutions.items()
               if len(changed) * 2 < sizes.get(district_id, 0)}
    by = actor if getattr(actor, "pk", None) else None
    runs = AggregationRun.objects.bulk_create([AggregationRun(year=year, district_id=district_id, created_by=by)
                                               for district_id in district_ids])
    if len(runs) >= _ANALYZE_RUNS_FROM:
        # Every result a run writes points to its run (a foreign key checked at commit). A worker's
        # connection keeps the check's plan: made while the table was small, it scans the whole table,
        # for each result, once these thousands of runs are in (batches of 2,040 results grew from 0.20
        # to 0.50 s over a year's run). The analysis replans it in every session, with the new figures.
        refresh_statistics(AggregationRun)
    target = max(1, int(getattr(settings, "SCORING_SPREAD_TASK_INSTITUTIONS", 2000)))
    for incremental in (False, True):
        batch: list[int] = []
        changed: list[int] = []
        size = 0
        for run in runs:
            if (run.district_id in partial) != incremental:
                continue
            batch.append(run.pk)
            if incremental:
                changed += sorted(partial[run.district_id])
                size += len(partial[run.district_id])
            else:
                size += sizes.get(run.district_id, 0)
            if size >= target:
                enqueue_after_commit(aggregate_districts_task, batch, changed if incremental else None)
                batch, changed, size = [], [], 0
        if batch:
            enqueue_after_commit(aggregate_districts_task, batch, changed if incremental else None)
    enqueue_after_commit(finish_year_aggregation_task, year, [run.pk for run in runs])
    return runs


def year_aggregation_outcome(run_ids: list[int]) -> dict:
    """{status: number of runs} of a spread aggregation (its closing step's answer)."""
    counts = dict(AggregationRun.objects.filter(pk__in=run_ids).order_by().values_list("status")
                  .annotate(n=Count("id")))
    return {status: counts.get(status, 0) for status in AggregationRun.Status.values}


def reap_stale_runs(older_than) -> int:
    """core's reaper (registered in ScoringConfig.ready): runs still queued since before
    `older_than`, or running since then (a worker killed half-way, a task never delivered), are
    marked failed with the reason; the year page lets the finance center start a new one."""
    from core.queue import stale_reason

    stale = AggregationRun.objects.filter(
        Q(status=AggregationRun.Status.QUEUED, created_at__lt=older_than)
        | Q(status=AggregationRun.Status.RUNNING, started_at__lt=older_than))
    return stale.update(status=AggregationRun.Status.FAILED, error=stale_reason(), finished_at=timezone.now())


def execute_run(run_id: int) -> AggregationRun:
    """Body of the Celery task: mark running, aggregate, record the outcome."""
    return execute_runs([run_id])[0]


def execute_runs(run_ids: list[int], institutions: list[int] | None = None) -> list[AggregationRun]:
    """Body of the batch task: the runs (of one year, one district each) marked running, their
    districts aggregated together (`aggregate_districts`; only `institutions` of them when given, an
    incremental run), each run's outcome recorded. Runs already succeeded (a redelivered message) are
    skipped; a run without a district or of a published district-year fails on its own; if the batch
    fails, each of its runs is marked failed."""
    runs = list(AggregationRun.objects.filter(pk__in=run_ids).order_by("pk"))
    todo = [run for run in runs if run.status != AggregationRun.Status.SUCCEEDED]
    if not todo:
        return runs
    now = timezone.now()
    for run in todo:
        run.status, run.started_at, run.error = AggregationRun.Status.RUNNING, now, ""
    AggregationRun.objects.filter(pk__in=[run.pk for run in todo]).update(
        status=AggregationRun.Status.RUNNING, started_at=now, error="")
    published = set(DistrictYear.objects.filter(year__in={run.year for run in todo}, status=YearStatus.PUBLISHED,
                                                district_id__in=[run.district_id for run in todo])
                    .values_list("year", "district_id"))
    refused = [run for run in todo if run.district_id is None or (run.year, run.district_id) in published]
    batches: dict[int, dict[int, AggregationRun]] = defaultdict(dict)
    for run in todo:
        if run not in refused:
            batches[run.year][run.district_id] = run
    for run in refused:
        try:
            if run.district_id is None:
                raise StateConflict(_("该汇总任务没有指定区县（旧版本任务），请重新发起"))
            _refuse_published(district_year(run.district_id, run.year))
        except StateConflict as exc:
            _fail_runs([run], exc)
    for year, by_district in batches.items():
        try:
            summaries = aggregate_districts(year, list(by_district), by_district, institutions)
        except Exception as exc:
            log.exception("aggregation %s failed", [run.pk for run in by_district.values()])
            _fail_runs(list(by_district.values()), exc)
            if len(runs) == 1:
                raise
            continue
        finished = timezone.now()
        for district_id, run in by_district.items():
            summary = summaries[district_id]
            run.status, run.progress, run.finished_at = AggregationRun.Status.SUCCEEDED, 100, finished
            run.institutions_total, run.results_written, run.results_changed = (summary.institutions,
                                                                                summary.written, summary.changed)
        update_each(AggregationRun, by_district.values(), ["status", "progress", "finished_at", "institutions_total",
                                                           "results_written", "results_changed"])
    if refused and len(runs) == 1:
        raise StateConflict(refused[0].error)
    return runs


def _fail_runs(runs: list[AggregationRun], exc: Exception) -> None:
    finished = timezone.now()
    for run in runs:
        run.status, run.error, run.finished_at = AggregationRun.Status.FAILED, str(exc), finished
    AggregationRun.objects.filter(pk__in=[run.pk for run in runs]).update(
        status=AggregationRun.Status.FAILED, error=str(exc), finished_at=finished)


def add_working_days(start: date, days: int) -> date:
    """`days` working days after `start` on the official calendar the finance center maintains."""
    from complaints.selectors import holiday_schedule
    from core.workdays import add_working_days as add

    return add(start, days, holiday_schedule([start.year, start.year + 1])).date


def _finance_of(actor, dy: DistrictYear, refusal: str) -> None:
    """`refusal`: the translated message, with %(district)s for the district's name."""
    if not access.is_finance_center(actor, dy.district_id):
        raise NotAllowed(refusal % {"district": dy.district.name})


def _year_event(dy: DistrictYear, action: str, actor, reason: str = "") -> None:
    SchemeEvent.objects.create(scheme_id=dy.scheme_id, district_id=dy.district_id, action=action,
                               actor=_real_user(actor), reason=reason)


@transaction.atomic
def open_notice(dy: DistrictYear, actor, today: date | None = None) -> DistrictYear:
    """Lock the district's results for the notice period (公示期)."""
    _finance_of(actor, dy, _("只有%(district)s金融工作中心可以公示结果"))
    dy = district_year(dy.district_id, dy.year, lock=True)
    if dy.status != YearStatus.OPEN:
        raise StateConflict(_("%(district)s %(year)s 年度当前为“%(status)s”，不能进入公示")
                            % {"district": dy.district.name, "year": dy.year, "status": dy.get_status_display()})
    if dy.scheme.status != SchemeStatus.ACTIVE:
        raise StateConflict(_("%(year)s 年度方案尚未启用") % {"year": dy.year})
    results = Result.objects.filter(year=dy.year, district_id=dy.district_id)
    if not results.exists():
        raise StateConflict(_("尚无汇总结果，请先运行汇总"))
    today = today or timezone.localdate()
    dy.status = YearStatus.NOTICE
    dy.notice_ends_on = add_working_days(today, dy.scheme.notice_days)
    dy.save(update_fields=["status", "notice_ends_on", "updated_at"])
    Assessment.objects.filter(year=dy.year, institution_id__in=results.values("institution_id")).update(
        state=AssessmentState.NOTICE)
    _year_event(dy, "notice", actor, f"公示至 {dy.notice_ends_on:%Y-%m-%d}")  # i18n-exempt: stored on the event record
    transaction.on_commit(lambda: _results_changed(dy.year, [dy.district_id]))
    return dy


@transaction.atomic
def file_objection(user, assessment: Assessment, reason: str, evidence=None, today: date | None = None) -> Objection:
    if not is_own_institution_user(user, assessment.institution_id):
        raise NotAllowed(_("只有本机构的填报员或负责人可以提出异议"))
    _hold_year(assessment)  # publishing waits for this objection, or this one sees the year published
    dy = year_of(assessment)
    if dy.status != YearStatus.NOTICE:
        raise StateConflict(_("只能在公示期内提出异议"))
    today = today or timezone.localdate()
    if dy.notice_ends_on and today > dy.notice_ends_on:
        raise StateConflict(_("公示期已于 %(day)s 结束") % {"day": f"{dy.notice_ends_on:%Y-%m-%d}"})
    if not (reason or "").strip():
        raise ScoringError(_("请填写异议理由"))
    return Objection.objects.create(assessment=assessment, filed_by=user, reason=reason.strip(),
                                    evidence=evidence or "")


def result_snapshot(assessment: Assessment) -> dict:
    """The stored result of an assessment as plain values (what an objection compares against)."""
    row = (Result.objects.filter(institution_id=assessment.institution_id, year=assessment.year)
           .values("basic", "bonus", "deduction", "total", "colour", "red_line", "rank", "category_rank").first())
    return {k: (f"{v:.2f}" if isinstance(v, Decimal) else v) for k, v in (row or {}).items()}


@transaction.atomic
def decide_objection(user, objection: Objection, upheld: bool, decision: str) -> Objection:
    objection = (Objection.objects.select_for_update(of=("self",)).select_related("assessment__institution")
                 .get(pk=objection.pk))
    dy = year_of(objection.assessment)
    _finance_of(user, dy, _("只有%(district)s金融工作中心可以处理异议"))
    if objection.status != ObjectionStatus.PENDING:
        raise StateConflict(_("该异议已处理"))
    if dy.status != YearStatus.NOTICE:
        raise StateConflict(_("只能在公示期内处理异议"))
    if not (decision or "").strip():
        raise ScoringError(_("请填写处理意见"))
    objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.REJECTED
    objection.decision, objection.decided_by, objection.decided_at = decision.strip(), user, timezone.now()
    if upheld:
        objection.before = result_snapshot(objection.assessment)
    objection.save()
    return objection


@transaction.atomic
def reopen_for_objection(user, objection: Objection, source: str, reason: str) -> ScoreSheet:
    """An upheld objection is corrected: the sheet concerned is reopened during the notice period with
    the reason recorded; its source (or the finance center, logged) corrects and submits it again, and
    the district is aggregated again before publishing."""
    _check_source(source)
    # The year first (SHARE), then the objection alone: publishing locks the year, then the assessments,
    # so locking the assessment before the year (select_related without `of`) could deadlock with it.
    assessment = Objection.objects.select_related("assessment__institution").get(pk=objection.pk).assessment
    _hold_year(assessment)  # the publishing waits for this reopening, or this reads that it is published
    objection = (Objection.objects.select_for_update(of=("self",)).select_related("assessment__institution")
                 .get(pk=objection.pk))
    dy = year_of(assessment)
    _finance_of(user, dy, _("只有%(district)s金融工作中心可以重新开放评分表"))
    if objection.status != ObjectionStatus.UPHELD:
        raise StateConflict(_("只有异议成立后才能重新开放评分表"))
    if dy.status != YearStatus.NOTICE:
        raise StateConflict(_("只能在公示期内因异议重新开放评分表"))
    if not (reason or "").strip():
        raise ScoringError(_("重新开放评分表须填写原因"))
    if objection.reopened_source and objection.reopened_source != source:
        raise StateConflict(_("该异议已重新开放“%(source)s”评分表；"
                              "一件异议只更正一张评分表，如需更正其他评分表请说明后另行处理")
                            % {"source": Source(objection.reopened_source).label})
    sheet = _return(user, assessment, source, f"异议更正：{reason.strip()}")  # i18n-exempt: a stored reason
    objection.reopened_source = source
    objection.save(update_fields=["reopened_source"])
    return sheet


def objection_changes(objection: Objection) -> list[tuple[str, object, object]]:
    """(label, before, now) for each result figure an upheld objection's correction changed."""
    if objection.status != ObjectionStatus.UPHELD or not objection.before:
        return []
    now = result_snapshot(objection.assessment)
    labels = {"basic": _("基础分"), "bonus": _("加分"), "deduction": _("扣分"), "total": _("总分"),
              "colour": _("颜色"), "red_line": _("触碰红线"), "rank": _("区内排名"), "category_rank": _("区内类别排名")}
    return [(label, objection.before.get(key), now.get(key)) for key, label in labels.items()
            if objection.before.get(key) != now.get(key)]


@transaction.atomic
def publish_year(dy: DistrictYear, actor) -> DistrictYear:
    _finance_of(actor, dy, _("只有%(district)s金融工作中心可以发布结果"))
    dy = district_year(dy.district_id, dy.year, lock=True)
    if dy.status != YearStatus.NOTICE:
        raise StateConflict(_("须先公示，公示期结束后方可发布"))
    assessments = Assessment.objects.filter(year=dy.year, institution__district_id=dy.district_id)
    pending = Objection.objects.filter(assessment__in=assessments, status=ObjectionStatus.PENDING).count()
    if pending:
        raise StateConflict(_("尚有 %(count)s 件异议未处理，不能发布") % {"count": pending})
    reopened = ScoreSheet.objects.filter(assessment__in=assessments, status=SheetStatus.DRAFT,
                                         assessment__objections__status=ObjectionStatus.UPHELD,
                                         source=F("assessment__objections__reopened_source")).count()
    if reopened:
        raise StateConflict(_("尚有 %(count)s 张因异议重新开放的评分表未重新提交，不能发布") % {"count": reopened})
    # A sheet corrected after the last aggregation: the district must be aggregated again first.
    if dy.aggregated_at is None or ScoreSheet.objects.filter(
            assessment__in=assessments, status=SheetStatus.SUBMITTED, submitted_at__gt=dy.aggregated_at).exists():
        raise StateConflict(_("有评分表在最近一次汇总后重新提交，请先重新汇总本区结果再发布"))
    # The complaint counts the results were computed from against today's (SCORING.md step 4): a case
    # concluded substantiated (or partially) since, however its commit and the aggregation interleaved.
    stale = stale_complaint_counts(dy)
    if stale:
        raise StateConflict(_("有 %(count)s 家机构的属实或部分属实举报投诉件数与最近一次汇总所用的不同，"
                              "请先重新汇总本区结果再发布") % {"count": stale})
    dy.status, dy.published_at = YearStatus.PUBLISHED, timezone.now()
    dy.save(update_fields=["status", "published_at", "updated_at"])
    Result.objects.filter(year=dy.year, district_id=dy.district_id).update(status=ResultStatus.PUBLISHED)
    assessments.filter(institution_id__in=Result.objects.filter(year=dy.year, district_id=dy.district_id)
                       .values("institution_id")).update(state=AssessmentState.PUBLISHED)
    _year_event(dy, "publish", actor)
    transaction.on_commit(lambda: _results_changed(dy.year, [dy.district_id]))
    queue_letters(dy)
    return dy


@transaction.atomic
def reopen_year(dy: DistrictYear, actor, reason: str) -> DistrictYear:
    _finance_of(actor, dy, _("只有%(district)s金融工作中心可以重新开放"))
    if not (reason or "").strip():
        raise ScoringError(_("重新开放已发布年度须说明理由"))
    dy = district_year(dy.district_id, dy.year, lock=True)
    if dy.status not in (YearStatus.PUBLISHED, YearStatus.NOTICE):
        raise StateConflict(_("只有公示中或已发布的年度需要重新开放"))
    dy.status, dy.published_at = YearStatus.OPEN, None
    dy.save(update_fields=["status", "published_at", "updated_at"])
    results = Result.objects.filter(year=dy.year, district_id=dy.district_id)
    for status, condition in ((ResultStatus.FINAL, True), (ResultStatus.PROVISIONAL, False)):
        ids = [r.pk for r in results.only("pk", "sources") if (len(r.sources) == 3) == condition]
        Result.objects.filter(pk__in=ids).update(status=status)
    Assessment.objects.filter(year=dy.year, institution__district_id=dy.district_id,
                              state__in=[AssessmentState.PUBLISHED, AssessmentState.NOTICE]).update(
        state=AssessmentState.SCORED)
    _year_event(dy, "reopen", actor, reason.strip())
    transaction.on_commit(lambda: _results_changed(dy.year, [dy.district_id]))
    return dy


def institutions_not_submitted(dy: DistrictYear) -> Iterable[Institution]:
    submitted = ScoreSheet.objects.filter(assessment__year=dy.year, source=Source.SELF,
                                          status=SheetStatus.SUBMITTED).values("assessment__institution_id")
    return (Institution.objects.filter(is_active=True, district_id=dy.district_id).exclude(pk__in=submitted)
            .order_by("code"))


def colour_counts(year: int, district: District | int) -> list[tuple[str, int]]:
    district_id = district if isinstance(district, int) else district.pk
    counts = dict(Result.objects.filter(year=year, district_id=district_id).values_list("colour")
                  .annotate(n=Count("pk")).order_by())
    return [(c, counts.get(c, 0)) for c in ("green", "blue", "yellow", "red")]


# --------------------------------------------------------------------------------------------
# Evidence


def add_evidence(user, assessment: Assessment, source: str, indicator_code: str, uploaded) -> Evidence:
    """Attach a checked file to the entry (created empty if needed) of a draft sheet the user may fill."""
    import hashlib

    from .evidence import EvidenceRejected, check_uploaded

    _check_source(source)
    if source not in fillable_sources(user, assessment):
        raise NotAllowed(_("您无权为“%(source)s”评分表上传材料") % {"source": Source(source).label})
    _check_year_open(assessment, source)
    indicator = Indicator.objects.filter(scheme=assessment.scheme, code=indicator_code).first()
    if indicator is None:
        raise NotFound(_("%(year)s 年度方案中没有指标 %(code)s") % {"year": assessment.year, "code": indicator_code})
    try:
        content_type = check_uploaded(uploaded)
    except EvidenceRejected as exc:
        raise ScoringError(str(exc)) from None
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    with transaction.atomic():
        sheet = _sheet(assessment, source, lock=True)
        if sheet.status == SheetStatus.SUBMITTED:
            raise StateConflict(_("“%(source)s”评分表已提交，不能再上传材料") % {"source": sheet.get_source_display()})
        entry, _created = SheetEntry.objects.get_or_create(sheet=sheet, indicator=indicator)
        evidence = Evidence(entry=entry, original_name=uploaded.name[:200], content_type=content_type,
                            size=uploaded.size, sha256=digest.hexdigest(), uploaded_by=_real_user(user))
        evidence.file.save(uploaded.name, uploaded, save=False)
        evidence.save()
    return evidence


# --------------------------------------------------------------------------------------------
# Letters to the recipients of each use (结果运用函)


def queue_letters(dy: DistrictYear) -> None:
    """Generate the district-year's letters after the publication commits (a Celery task)."""
    from .tasks import generate_letters_task

    enqueue_after_commit(generate_letters_task, dy.district_id, dy.year)


def generate_letters(district_id: int, year: int) -> list[LinkageLetter]:
    """The three letters of a published district-year (xlsx + numbered PDF each), then their e-mails.

    Idempotent: letters already made for this publication are kept as they are; after a reopen and a
    new publication they are made again under the next numbers."""
    from notifications import services as notifications

    from . import letters

    with transaction.atomic():
        dy = district_year(district_id, year, lock=True)
        if dy.status != YearStatus.PUBLISHED or dy.published_at is None:
            return []
        existing = {letter.use: letter for letter in LinkageLetter.objects.filter(district_id=district_id, year=year)}
        if existing and all(letter.published_at == dy.published_at for letter in existing.values()) \
                and len(existing) == len(rules.LINKAGE_USES):
            return list(existing.values())
        serial = max((letter.serial for letter in existing.values()), default=0)
        made = []
        for use in rules.LINKAGE_USES:
            letter = existing.get(use) or LinkageLetter(district_id=district_id, year=year, use=use)
            if letter.pk and letter.published_at == dy.published_at:
                made.append(letter)
                continue
            serial += 1
            letter.district = dy.district
            letter.serial = serial
            letter.number = letters.letter_number(dy.district, year, serial)
            letter.recipient = letters.default_recipient(use)
            letter.published_at = dy.published_at
            rows = letters.letter_rows(dy.district, year, use)
            letter.institutions = len(rows)
            xlsx, pdf = letters.render_xlsx(letter, rows), letters.render_pdf(letter, rows)
            letter.xlsx.save(letters.file_name(letter, "xlsx"), ContentFile(xlsx), save=False)
            letter.pdf.save(letters.file_name(letter, "pdf"), ContentFile(pdf), save=False)
            letter.save()
            made.append(letter)
            addresses = (getattr(settings, "SCORING_LETTER_EMAILS", {}) or {}).get(use) or []
            if addresses:
                # The "letters ready" mail carries the letter itself: the numbered PDF and the xlsx.
                notifications.notify(
                    f"scoring:letter:{letter.pk}:{letter.serial}", "scoring.letter_mail",
                    {"recipient": letter.recipient, "district": dy.district.name, "year": year,
                     "number": letter.number, "count": letter.institutions},
                    targets=[notifications.Target("email", address, letter.recipient) for address in addresses],
                    attachments=[
                        notifications.Attachment(letters.file_name(letter, "pdf"), pdf, "application/pdf"),
                        notifications.Attachment(
                            letters.file_name(letter, "xlsx"), xlsx,
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")])
                record_letter_dispatch(letter, LetterDispatch.Channel.EMAIL, ", ".join(addresses))
        fresh = [letter for letter in made if letter.serial > (max((x.serial for x in existing.values()), default=0))]
        if fresh:
            _notify_letters(dy, fresh)
    return made


def _notify_letters(dy: DistrictYear, fresh: list[LinkageLetter]) -> None:
    """The finance center's robots hear that the letters are ready (no institution named); logged."""
    from notifications import services as notifications

    stored = notifications.notify(f"scoring:letters:{dy.district_id}:{dy.year}:{fresh[0].serial}", "scoring.letters",
                                  {"district": dy.district.name, "year": dy.year, "count": len(fresh)},
                                  district=dy.district_id)
    if stored:
        for letter in fresh:
            # The dispatch log's recipient is stored as data.
            record_letter_dispatch(letter, LetterDispatch.Channel.NOTICE, "金融工作中心群机器人")  # i18n-exempt: data


def remind_by_channels(scheme: Scheme, dy: DistrictYear, pending: list[Institution], due: date) -> int:
    """The self-assessment reminder on the institutions' chosen channels (SMS, robots), besides the mail."""
    from notifications import services as notifications

    stored = 0
    for institution in pending:
        stored += notifications.notify(
            f"scoring:reminder:{scheme.pk}:{dy.district_id}:{institution.pk}:{due:%Y-%m-%d}", "reminder.sheets",
            {"institution": institution.name, "year": scheme.year, "what": _("清廉金融自评"), "due": f"{due:%Y-%m-%d}"},
            institutions=[institution])
    return stored


def record_letter_dispatch(letter: LinkageLetter, channel: str, recipient: str, by=None,
                           file_format: str = "") -> LetterDispatch:
    """Log one delivery or download of a letter: what (its number), to whom, how and when."""
    return LetterDispatch.objects.create(letter=letter, number=letter.number, channel=channel,
                                         recipient=recipient[:255], by=_real_user(by) if by else None,
                                         file_format=file_format)


# --------------------------------------------------------------------------------------------
# The exchange with the city: packages of districts' published years, the city's index weights


def cities_of(user):
    """The cities whose index the user reads and configures (city users; the administrator and the
    operator's commands, `user` None: every city)."""
    from institutions.models import DistrictGrant

    cities = District.objects.filter(level=District.Level.CITY)
    if user is None or access.is_superuser(user):
        return cities.order_by("code")
    granted = DistrictGrant.objects.filter(user=user, role=Role.CITY).values("district_id")
    children = access.district_ids(user, Role.CITY) or frozenset()
    return cities.filter(Q(pk__in=granted) | Q(children__pk__in=children)).distinct().order_by("code")


def district_package(dy: DistrictYear, actor) -> dict:
    """The district's published year as a package for the city (the finance center of the district)."""
    from . import exchange

    _finance_of(actor, dy, _("只有%(district)s金融工作中心可以导出结果数据包"))
    return exchange.build_package(dy)


@transaction.atomic
def import_city_package(raw, actor) -> tuple[CityPackage, str]:
    """Import a district's package into this (city) installation: checked against the schema and for
    consistency, for a city the actor reads (None: the operator's command); a newer package replaces
    the stored one. Returns the row and "created", "updated" or "unchanged". Nothing is stored when
    refused."""
    from . import exchange

    package = exchange.parse(raw)
    info = package["district"]
    city = cities_of(actor).filter(code=info["city"]["code"]).first()
    if city is None:
        raise NotFound(_("数据包所属的市（%(code)s）不在您可管理的范围内") % {"code": info["city"]["code"]})
    district = District.objects.filter(code=info["code"]).first()
    if district is None:
        district = District.objects.create(code=info["code"], name=info["name"], level=District.Level.DISTRICT,
                                           parent=city)
    elif district.parent_id != city.pk:
        raise DomainError(_("%(district)s（%(code)s）不属于%(city)s")
                          % {"district": district.name, "code": district.code, "city": city.name}, field="file")
    year = package["year"]
    if Result.objects.filter(district=district, year=year, status=ResultStatus.PUBLISHED).exists():
        raise StateConflict(_("本系统已有%(district)s %(year)s 年度的发布结果，无需导入")
                            % {"district": district.name, "year": year})
    stats = package["statistics"]
    fields = {
        "schema_version": package["version"], "checksum": exchange.checksum(package),
        "published_at": package["published_at"], "generated_at": package["generated_at"],
        "institutions": stats["institutions"], "total_sum": Decimal(stats["total_sum"]),
        "colours": stats["colours"], "red_lines": stats["red_lines"],
        "substantiated": stats["complaints_substantiated"], "partially": stats["complaints_partial"],
        "package": package, "imported_by": _real_user(actor),
    }
    existing = CityPackage.objects.select_for_update().filter(district=district, year=year).first()
    if existing is None:
        return CityPackage.objects.create(district=district, year=year, **fields), "created"
    if existing.checksum == fields["checksum"]:
        return existing, "unchanged"
    from datetime import datetime

    if datetime.fromisoformat(package["generated_at"]) < existing.generated_at:
        raise StateConflict(_("已导入%(district)s %(year)s 年度更新的数据包（%(time)s）")
                            % {"district": district.name, "year": year,
                               "time": f"{existing.generated_at:%Y-%m-%d %H:%M}"})
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.save()
    return existing, "updated"


def city_weights(city: District) -> dict[str, Decimal]:
    """The city's index weights (a read: scoring.selectors.city_weights, which other apps call)."""
    from . import selectors

    return selectors.city_weights(city)


def save_city_weights(city: District, weights: dict, actor) -> CityIndexWeights:
    """A city's own index weights (city users of the city, the administrator); four decimals summing to 1."""
    if not cities_of(actor).filter(pk=city.pk).exists():
        raise NotFound(_("未找到该市"))
    parsed = {}
    for key in rules.CITY_INDEX_COMPONENTS:
        raw = weights.get(key)
        try:
            parsed[key] = Decimal(str(raw).strip()) if raw not in (None, "") else None
        except ArithmeticError:
            parsed[key] = None
    problems = rules.city_weight_problems(parsed)
    if problems:
        raise DomainError("；".join(problems), field="weights")
    row, _created = CityIndexWeights.objects.update_or_create(
        city=city, defaults={**parsed, "updated_by": _real_user(actor)})
    return row
