from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.tabular import fail_on_problems, read_or_fail, read_path
from scoring import services
from scoring.models import Scheme


class Command(BaseCommand):
    help = "Create or update a year's norms and scheme from a norms file and an indicators file (CSV/XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("norms_file")
        parser.add_argument("indicators_file")
        parser.add_argument("--district", help=_("行政区划代码：导入为该区县自己的方案（默认：全系统模板）"))
        parser.add_argument("--activate", action="store_true",
                            help="activate the scheme (basic points must add to 100)")

    def handle(self, *args, year, norms_file, indicators_file, activate=False, district=None, **options):
        from institutions.models import District

        if not 2000 <= year <= 2100:
            raise CommandError(_("年度 %(year)s 不合理") % {"year": year})
        target = None
        if district:
            target = District.objects.filter(code=district, level=District.Level.DISTRICT).first()
            if target is None:
                raise CommandError(_("未知区县代码 %(code)s") % {"code": district})
        norms = read_or_fail(read_path, norms_file, services.NORMS_COLUMNS)
        indicators = read_or_fail(read_path, indicators_file, services.INDICATOR_COLUMNS)
        try:
            report = services.import_scheme(year, norms, indicators, activate=activate, district=target)
        except services.ScoringError as exc:
            raise CommandError(str(exc)) from exc
        fail_on_problems(self, report, f"{norms_file} / {indicators_file}")
        scheme = Scheme.objects.get(year=year, district=target)
        self.stdout.write(self.style.SUCCESS(
            _("%(scheme)s 已导入：%(items)s 项 %(clauses)s 条，%(indicators)s 项指标，状态：%(status)s") % {
                "scheme": scheme, "items": scheme.norms.items.count(), "clauses": scheme.norms.clauses.count(),
                "indicators": scheme.indicators.count(), "status": scheme.get_status_display()}))
