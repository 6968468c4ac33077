from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from institutions.models import District
from scoring import sheet_sums


class Command(BaseCommand):
    help = ("Store the sums of a year's submitted sheets that have none (sheets submitted before the release "
            "that stores them at submission, or loaded in bulk), so that the year's next aggregation does not "
            "count their entries. Safe to run while the portal serves and to run again.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--district", help=_("行政区划代码：只处理该区县（默认：该年度的每个区县）"))

    def handle(self, *args, year, district=None, **options):
        if not 2000 <= year <= 2100:
            raise CommandError(_("年度 %(year)s 不合理") % {"year": year})
        districts = None
        if district:
            found = District.objects.filter(code=district, level=District.Level.DISTRICT).first()
            if found is None:
                raise CommandError(_("未知区县代码 %(code)s") % {"code": district})
            districts = [found.pk]
        stored = sheet_sums.fill(year, districts)
        self.stdout.write(_("%(year)s 年度：已为 %(count)s 张已提交的评分表保存合计") % {"year": year, "count": stored})
