import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from institutions.models import District
from scoring import services
from scoring.models import AggregationRun, Assessment, DistrictYear


class Command(BaseCommand):
    help = ("Aggregate a year's sheets into results, district by district (through Celery when a broker is "
            "configured, in process otherwise), and print a one-line summary per district. A published "
            "district-year is refused: the command then exits non-zero (after aggregating the others). "
            "With --changed, only what changed since the last aggregation, spread over the workers.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--district", help=_("行政区划代码：只汇总该区县（默认：该年度的每个区县）"))
        which.add_argument("--changed", action="store_true",
                           help=_("只重算自上次汇总以来数据有变化的区县（其中只有少数机构变化的，只重算这些机构并重新排名）"))
        parser.add_argument("--timeout", type=int, default=900, help="seconds to wait for a Celery worker")

    def handle(self, *args, year, district=None, changed=False, timeout, **options):
        if not 2000 <= year <= 2100:
            raise CommandError(_("年度 %(year)s 不合理") % {"year": year})
        if changed:
            self._aggregate_changed(year, timeout)
            return
        if district:
            found = District.objects.filter(code=district, level=District.Level.DISTRICT).first()
            if found is None:
                raise CommandError(_("未知区县代码 %(code)s") % {"code": district})
            districts = [found]
        else:
            districts = list(District.objects.filter(
                Q(pk__in=DistrictYear.objects.filter(year=year).values("district_id"))
                | Q(pk__in=Assessment.objects.filter(year=year).values("institution__district_id"))).order_by("code"))
            if not districts:
                raise CommandError(_("%(year)s 年度没有任何区县开始测评（尚无测评表）") % {"year": year})
        refused = []
        for target in districts:
            try:
                self._aggregate(year, target, timeout)
            except CommandError as exc:
                refused.append(str(exc))
                self.stderr.write(str(exc))
        if refused:
            raise CommandError(_("%(count)s 个区县未汇总") % {"count": len(refused)})

    def _aggregate_changed(self, year: int, timeout: int) -> None:
        with transaction.atomic():  # the batches are published when this commits
            runs = services.start_year_aggregation(year, only_changed=True)
        if not runs:
            self.stdout.write(_("%(year)s 年度自上次汇总以来没有变化，无需重算") % {"year": year})
            return
        failed = []
        deadline = time.monotonic() + timeout  # for all of them: the workers share the batches
        names = dict(District.objects.filter(pk__in=[run.district_id for run in runs]).values_list("pk", "name"))
        for run in runs:
            try:
                self._finish(year, District(pk=run.district_id, name=names[run.district_id]), run, deadline, timeout)
            except CommandError as exc:
                failed.append(str(exc))
                self.stderr.write(str(exc))
        if failed:
            raise CommandError(_("%(count)s 个区县未汇总") % {"count": len(failed)})

    def _aggregate(self, year: int, district: District, timeout: int) -> None:
        try:
            with transaction.atomic():
                run = services.start_aggregation(year, district)
        except services.ScoringError as exc:
            raise CommandError(_("%(district)s：%(error)s") % {"district": district.name, "error": exc}) from exc
        except Exception as exc:  # in-process run: the task's own error
            raise CommandError(_("%(district)s：汇总失败：%(error)s")
                               % {"district": district.name, "error": exc}) from exc
        self._finish(year, district, run, time.monotonic() + timeout, timeout)

    def _finish(self, year: int, district: District, run: AggregationRun, deadline: float, timeout: int) -> None:
        """Wait for the run (until `deadline`), then print its summary (or raise its error)."""
        while True:
            run.refresh_from_db()
            if run.status in (AggregationRun.Status.SUCCEEDED, AggregationRun.Status.FAILED):
                break
            if time.monotonic() > deadline:
                raise CommandError(_("汇总任务 #%(run)s 已排队，但 %(seconds)s 秒内没有 Celery worker 完成它")
                                   % {"run": run.pk, "seconds": timeout})
            time.sleep(0.5 if not settings.CELERY_TASK_ALWAYS_EAGER else 0)
        if run.status == AggregationRun.Status.FAILED:
            raise CommandError(_("%(district)s：汇总失败：%(error)s") % {"district": district.name, "error": run.error})
        colours = dict(services.colour_counts(year, district))
        summary = services.AggregationSummary(year=year, district=district.name, institutions=run.institutions_total,
                                              written=run.results_written, changed=run.results_changed,
                                              removed=0, colours=colours)
        self.stdout.write(self.style.SUCCESS(_("%(summary)s，用时 %(seconds)s 秒") % {
            "summary": summary.line(), "seconds": f"{run.duration_seconds or 0:.2f}"}))
