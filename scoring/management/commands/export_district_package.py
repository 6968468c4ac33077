from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.errors import DomainError
from institutions.models import District
from scoring import exchange, services


class Command(BaseCommand):
    help = ("Write a district's published year as the package for the city: <dir>/district-results-<code>-<year>"
            ".json (schema clean-finance/district-results, version 1) and the same as .xlsx.")

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help=_("行政区划代码"))
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--out", default=".", help="folder to write to")

    def handle(self, *args, district, year, out, **options):
        found = District.objects.filter(code=district, level=District.Level.DISTRICT).first()
        if found is None:
            raise CommandError(_("未知区县代码 %(code)s") % {"code": district})
        if not 2000 <= year <= 2100:
            raise CommandError(_("年度 %(year)s 不合理") % {"year": year})
        try:
            package = exchange.build_package(services.district_year(found, year))
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"district-results-{district}-{year}"
        stem.with_suffix(".json").write_bytes(exchange.dumps(package))
        stem.with_suffix(".xlsx").write_bytes(exchange.render_xlsx(package))
        self.stdout.write(_("%(district)s %(year)s 年度数据包：%(json)s、%(xlsx)s（%(count)s 家机构）") % {
            "district": found.name, "year": year, "json": f"{stem}.json", "xlsx": f"{stem}.xlsx",
            "count": package["statistics"]["institutions"]})
