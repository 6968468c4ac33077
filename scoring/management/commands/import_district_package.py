from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.errors import DomainError
from scoring import services


class Command(BaseCommand):
    help = ("Import district packages (JSON files written by export_district_package in the districts' "
            "installations) into this city installation; each is checked against the schema. A file "
            "refused is reported and the command exits non-zero after trying the others.")

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")

    def handle(self, *args, files, **options):
        refused = 0
        words = {"created": _("%(file)s：%(district)s %(year)s 年度已导入"),
                 "updated": _("%(file)s：%(district)s %(year)s 年度已更新"),
                 "unchanged": _("%(file)s：%(district)s %(year)s 年度未改变")}
        for name in files:
            path = Path(name)
            try:
                package, outcome = services.import_city_package(path.read_bytes(), None)
            except OSError as exc:
                refused += 1
                self.stderr.write(_("%(file)s：无法读取（%(error)s）") % {"file": name, "error": exc.strerror})
                continue
            except DomainError as exc:
                refused += 1
                self.stderr.write(_("%(file)s：%(problem)s") % {"file": name, "problem": exc})
                continue
            self.stdout.write(words[outcome] % {"file": name, "district": package.district.name, "year": package.year})
        if refused:
            raise CommandError(_("%(count)s 个数据包未导入") % {"count": refused})
