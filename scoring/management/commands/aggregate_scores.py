import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from scoring import services
from scoring.models import AggregationRun


class Command(BaseCommand):
    help = ("Aggregate a year's sheets into results (through Celery when a broker is configured, "
            "in process otherwise) and print a one-line summary.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--timeout", type=int, default=900, help="seconds to wait for a Celery worker")

    def handle(self, *args, year, timeout, **options):
        try:
            with transaction.atomic():
                run = services.start_aggregation(year)
        except services.ScoringError as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:  # in-process run: the task's own error
            raise CommandError(f"汇总失败：{exc}") from exc
        deadline = time.monotonic() + timeout
        while True:
            run.refresh_from_db()
            if run.status in (AggregationRun.Status.SUCCEEDED, AggregationRun.Status.FAILED):
                break
            if time.monotonic() > deadline:
                raise CommandError(f"汇总任务 #{run.pk} 已排队，但 {timeout} 秒内没有 Celery worker 完成它")
            time.sleep(0.5 if not settings.CELERY_TASK_ALWAYS_EAGER else 0)
        if run.status == AggregationRun.Status.FAILED:
            raise CommandError(f"汇总失败：{run.error}")
        colours = dict(services.colour_counts(year))
        summary = services.AggregationSummary(year=year, institutions=run.institutions_total,
                                              written=run.results_written, changed=run.results_changed,
                                              removed=0, colours=colours)
        self.stdout.write(self.style.SUCCESS(summary.line() + f"，用时 {run.duration_seconds or 0:.2f} 秒"))
