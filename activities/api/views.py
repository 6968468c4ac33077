"""The activities API: the ledger, trainings (attendance, completion), notices and returns. Reads for
the finance center (its districts) and the institution's own filers and heads; writes as the pages
allow (services decide). Out of scope: 404."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.errors import DomainError, NotFound
from core.years import parse_year
from institutions.models import Employee

from .. import selectors, services
from ..models import Activity, ActivityFile, Notice, NoticeRecipient, TrainingSession
from . import serializers as s


class AppUser(IsAuthenticated):
    """The finance center and institutions' filers and heads; anyone else: 403."""

    message = gettext_lazy("仅区金融工作中心和机构填报员、负责人可以使用本接口。")

    def has_permission(self, request, view):
        return super().has_permission(request, view) and selectors.may_use(request.user)


def _institution(user, code: str):
    """The institution a write is for: `code`, else the user's own (filer/head)."""
    qs = selectors.visible_institutions(user)
    if code:
        inst = qs.filter(code=code).first()
        if inst is None:
            raise NotFound(_("未找到该机构，或您无权访问"))
        return inst
    inst = qs.filter(pk__in=selectors.writer_institution_ids(user)).first()
    if inst is None:
        raise DomainError(_("请用 institution_code 指明机构"), field="institution_code")
    return inst


def _clause_ids(inst, year: int, numbers) -> list[int]:
    numbers = {n.strip() for n in numbers if n.strip()}
    if not numbers:
        return []
    found = dict(services.clauses_for(inst.district_id, year).filter(number__in=numbers).values_list("number", "pk"))
    missing = sorted(numbers - set(found))
    if missing:
        raise DomainError(_("{year} 年度的创建规范中没有条款：{numbers}").format(year=year, numbers="、".join(missing)),
                          field="clauses")
    return list(found.values())


def _employee_ids(inst, numbers) -> list[int]:
    numbers = {n.strip() for n in numbers if n.strip()}
    found = dict(Employee.objects.filter(institution=inst, employee_no__in=numbers).values_list("employee_no", "pk"))
    missing = sorted(numbers - set(found))
    if missing:
        raise DomainError(_("本机构员工名册中没有工号：{numbers}").format(numbers="、".join(missing[:20])),
                          field="participants")
    return list(found.values())


class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """活动台账: list (filters `year`, `institution`, `category`, `clause`), one activity, record one."""

    serializer_class = s.ActivitySerializer
    permission_classes = [AppUser]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        f = s.ActivityFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        d = f.validated_data
        qs = selectors.activities(self.request.user, selectors.LedgerFilter(
            year=d.get("year"), institution=d.get("institution") or "", category=d.get("category") or ""))
        if d.get("clause"):
            qs = qs.filter(clauses__number=d["clause"])
        return qs.prefetch_related("participants", Prefetch("files", queryset=ActivityFile.objects.order_by("pk")))

    @extend_schema(parameters=[OpenApiParameter("year", int), OpenApiParameter("institution", str),
                               OpenApiParameter("category", str), OpenApiParameter("clause", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ActivityWriteSerializer, responses={201: s.ActivitySerializer})
    def create(self, request):
        form = s.ActivityWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        d = form.validated_data
        inst = _institution(request.user, d["institution_code"])
        activity = services.record_activity(request.user, inst, services.ActivityInput(
            kind_id=d["kind"], title=d["title"], held_on=d["held_on"], place=d["place"], organiser=d["organiser"],
            participant_ids=_employee_ids(inst, d["participants"]), participant_count=d["participant_count"],
            description=d["description"], clause_ids=_clause_ids(inst, d["held_on"].year, d["clauses"])))
        return Response(self.get_serializer(self.get_queryset().get(pk=activity.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ActivityKindSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def kinds(self, request):
        """调用者所在区县活动目录中的活动类型（机构所在的区县，或区金融工作中心所在的区县）。"""
        inst = selectors.visible_institutions(request.user).filter(
            pk__in=selectors.writer_institution_ids(request.user)).first()
        district_id = inst.district_id if inst else None
        if district_id is None:
            from institutions import access
            from institutions.models import Role

            district_id = access.resolve_district(request.user, request.query_params.get("district"),
                                                  (Role.FINANCE_CENTER,)).pk
        services.ensure_catalogue(district_id)
        return Response(s.ActivityKindSerializer(selectors.kinds_for(district_id), many=True).data)


class TrainingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """培训记录: list (filters `year`, `institution`), one session, record one, set its attendance,
    and the completion of the year's required hours per institution."""

    serializer_class = s.TrainingSerializer
    permission_classes = [AppUser]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TrainingSession.objects.none()
        year = parse_year(self.request.query_params.get("year"))
        return selectors.trainings(self.request.user, year, self.request.query_params.get("institution", "")[:32]
                                   ).prefetch_related("clauses")

    @extend_schema(request=s.TrainingWriteSerializer, responses={201: s.TrainingSerializer})
    def create(self, request):
        form = s.TrainingWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        d = form.validated_data
        inst = _institution(request.user, d["institution_code"])
        session = services.record_training(request.user, inst, services.TrainingInput(
            title=d["title"], held_on=d["held_on"], hours=d["hours"], trainer=d["trainer"], place=d["place"],
            is_warning_education=d["is_warning_education"], description=d["description"],
            clause_ids=_clause_ids(inst, d["held_on"].year, d["clauses"])))
        return Response(self.get_serializer(self.get_queryset().get(pk=session.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=s.TrainingAttendanceSerializer, responses={200: s.TrainingSerializer})
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        session = self.get_object()
        form = s.TrainingAttendanceSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        ids = _employee_ids(session.institution, form.validated_data["employees"])
        services.set_attendance(request.user, session, ids)
        return Response(self.get_serializer(self.get_queryset().get(pk=session.pk)).data)

    @extend_schema(parameters=[OpenApiParameter("year", int)],
                   responses={200: s.TrainingCompletionSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def completion(self, request):
        """按可见机构统计：在职员工数、达到该年度规定学时的人数及达标率。"""
        from django.utils import timezone

        year = parse_year(request.query_params.get("year"), timezone.localdate().year)
        institutions = list(selectors.visible_institutions(request.user).filter(is_active=True)[:1000])
        figures = selectors.institution_completion([i.pk for i in institutions], year)
        required = selectors.required_hours()
        rows = [{"institution": i, "year": year, "employees": figures[i.pk].employees,
                 "completed": figures[i.pk].completed, "rate": figures[i.pk].rate, "required_hours": required}
                for i in institutions]
        return Response(s.TrainingCompletionSerializer(rows, many=True).data)


class NoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """通知: the finance center's notices of its districts, or those the caller's institution received;
    publishing (finance center; multipart for attachments); opening one as an institution user
    records its read receipt."""

    serializer_class = s.NoticeSerializer
    permission_classes = [AppUser]
    lookup_value_regex = r"\d+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notice.objects.none()
        return selectors.notices(self.request.user).select_related("clause").prefetch_related("attachments")

    def retrieve(self, request, *args, **kwargs):
        notice = self.get_object()
        services.mark_read(request.user, notice)
        return Response(self.get_serializer(notice).data)

    @extend_schema(request=s.NoticeWriteSerializer, responses={201: s.NoticeSerializer})
    def create(self, request):
        from institutions import access
        from institutions.models import Role

        if not access.is_finance_center(request.user):
            raise PermissionDenied(_("只有区金融工作中心可以发布通知。"))
        data = request.data.dict() if hasattr(request.data, "dict") else request.data
        if hasattr(request.data, "getlist"):
            data["institutions"] = request.data.getlist("institutions")
        form = s.NoticeWriteSerializer(data=data)
        form.is_valid(raise_exception=True)
        d = form.validated_data
        clause_id = None
        if d["clause"]:
            from django.utils import timezone

            district = access.resolve_district(request.user, d["district"], (Role.FINANCE_CENTER,))
            clause_id = services.clauses_for(district.pk, timezone.localdate().year).filter(
                number=d["clause"]).values_list("pk", flat=True).first()
            if clause_id is None:
                raise DomainError(_("本年度的创建规范中没有该条款"), field="clause")
        notice = services.publish_notice(request.user, services.NoticeInput(
            title=d["title"], body=d["body"], audience=d["audience"], category=d["category"],
            institution_codes=d["institutions"], return_kind=d["return_kind"],
            return_instructions=d["return_instructions"], return_within=d["return_within"],
            campaign_id=d["campaign"], clause_id=clause_id, district_code=d["district"]),
            request.FILES.getlist("attachments"))
        return Response(self.get_serializer(self.get_queryset().get(pk=notice.pk)).data,
                        status=status.HTTP_201_CREATED)


class ReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """报送: the returns notices asked for (filters `notice`, `status`, `institution`); the institution
    submits (text and/or a file, multipart), the finance center accepts or returns (409 from any other
    status)."""

    serializer_class = s.NoticeReturnSerializer
    permission_classes = [AppUser]
    lookup_value_regex = r"\d+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return NoticeRecipient.objects.none()
        # The district's code is in every row: joined, not one query per row (issue 16).
        qs = (selectors.recipients(self.request.user).exclude(return_status="")
              .select_related("institution__district").order_by("-notice_id", "institution__code"))
        params = self.request.query_params
        notice = params.get("notice", "")
        if notice:
            if not notice.isdigit() or len(notice) > 12:
                raise DomainError(_("notice 应为通知编号"), field="notice")
            qs = qs.filter(notice_id=int(notice))
        if params.get("status"):
            qs = qs.filter(return_status=params["status"][:12])
        if params.get("institution"):
            qs = qs.filter(institution__code=params["institution"][:32])
        return qs

    @extend_schema(parameters=[OpenApiParameter("notice", int), OpenApiParameter("status", str),
                               OpenApiParameter("institution", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.NoticeReturnSubmitSerializer, responses={200: s.NoticeReturnSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        recipient = self.get_object()
        form = s.NoticeReturnSubmitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        recipient = services.submit_return(request.user, recipient, form.validated_data["text"],
                                           form.validated_data["file"])
        return Response(self.get_serializer(self.get_queryset().get(pk=recipient.pk)).data)

    @extend_schema(request=s.NoticeReturnDecisionSerializer, responses={200: s.NoticeReturnSerializer})
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<decision>accept|return)")
    def decide(self, request, pk=None, decision=""):
        recipient = self.get_object()
        form = s.NoticeReturnDecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        d = form.validated_data
        recipient = services.decide_return(request.user, recipient, decision == "accept", d["reason"],
                                           d["working_days"])
        return Response(self.get_serializer(self.get_queryset().get(pk=recipient.pk)).data)
