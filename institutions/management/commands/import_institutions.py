from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from core.tabular import fail_on_problems, import_with_resource, read_or_fail, read_path
from institutions.resources import INSTITUTION_COLUMNS, InstitutionResource


class Command(BaseCommand):
    help = ("Import or update institutions by code from CSV/XLSX (columns: "
            + ", ".join(INSTITUTION_COLUMNS) + "). Any bad row: nothing is imported.")

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        dataset = read_or_fail(read_path, file, INSTITUTION_COLUMNS)
        report = import_with_resource(InstitutionResource(), dataset)
        fail_on_problems(self, report, file)
        self.stdout.write(self.style.SUCCESS(_("导入完成：%(summary)s") % {"summary": report.summary()}))
