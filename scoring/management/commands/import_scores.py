from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from core.tabular import fail_on_problems, read_or_fail, read_path
from scoring import services


class Command(BaseCommand):
    help = ("Import sheet entries from CSV/XLSX (columns: " + ", ".join(services.SCORE_COLUMNS)
            + "). Any bad row: nothing is imported.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--submit", action="store_true", help="submit every sheet the file touched")

    def handle(self, *args, file, submit=False, **options):
        dataset = read_or_fail(read_path, file, services.SCORE_COLUMNS)
        report = services.import_scores(dataset, submit=submit)
        fail_on_problems(self, report, file)
        if submit:
            message = _("评分导入完成：%(summary)s，并已提交所涉评分表") % {"summary": report.summary()}
        else:
            message = _("评分导入完成：%(summary)s") % {"summary": report.summary()}
        self.stdout.write(self.style.SUCCESS(message))
