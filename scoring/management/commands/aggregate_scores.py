import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q

from institutions.models import District
from scoring import services
from scoring.models import AggregationRun, Assessment, DistrictYear


class Command(BaseCommand):
    help = ("Aggregate a year's sheets into results, district by district (through Celery when a broker is "
            "configured, in process otherwise), and print a one-line summary per district. A published "
            "district-year is refused: the command then exits non-zero (after aggregating the others).")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--district", help="行政区划代码：只汇总该区县（默认：该年度的每个区县）")
        parser.add_argument("--timeout", type=int, default=900, help="seconds to wait for a Celery worker")

    def handle(self, *args, year, district=None, timeout, **options):
        if not 2000 <= year <= 2100:
            raise CommandError(f"年度 {year} 不合理")
        if district:
            found = District.objects.filter(code=district, level=District.Level.DISTRICT).first()
            if found is None:
                raise CommandError(f"未知区县代码 {district}")
            districts = [found]
        else:
            districts = list(District.objects.filter(
                Q(pk__in=DistrictYear.objects.filter(year=year).values("district_id"))
                | Q(pk__in=Assessment.objects.filter(year=year).values("institution__district_id"))).order_by("code"))
            if not districts:
                raise CommandError(f"{year} 年度没有任何区县开始测评（尚无测评表）")
        refused = []
        for target in districts:
            try:
                self._aggregate(year, target, timeout)
            except CommandError as exc:
                refused.append(str(exc))
                self.stderr.write(str(exc))
        if refused:
            raise CommandError(f"{len(refused)} 个区县未汇总")

    def _aggregate(self, year: int, district: District, timeout: int) -> None:
        try:
            with transaction.atomic():
                run = services.start_aggregation(year, district)
        except services.ScoringError as exc:
            raise CommandError(f"{district.name}：{exc}") from exc
        except Exception as exc:  # in-process run: the task's own error
            raise CommandError(f"{district.name}：汇总失败：{exc}") from exc
        deadline = time.monotonic() + timeout
        while True:
            run.refresh_from_db()
            if run.status in (AggregationRun.Status.SUCCEEDED, AggregationRun.Status.FAILED):
                break
            if time.monotonic() > deadline:
                raise CommandError(f"汇总任务 #{run.pk} 已排队，但 {timeout} 秒内没有 Celery worker 完成它")
            time.sleep(0.5 if not settings.CELERY_TASK_ALWAYS_EAGER else 0)
        if run.status == AggregationRun.Status.FAILED:
            raise CommandError(f"{district.name}：汇总失败：{run.error}")
        colours = dict(services.colour_counts(year, district))
        summary = services.AggregationSummary(year=year, district=district.name, institutions=run.institutions_total,
                                              written=run.results_written, changed=run.results_changed,
                                              removed=0, colours=colours)
        self.stdout.write(self.style.SUCCESS(summary.line() + f"，用时 {run.duration_seconds or 0:.2f} 秒"))
