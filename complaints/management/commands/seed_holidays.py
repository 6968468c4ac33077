from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from complaints import services


class Command(BaseCommand):
    help = "Load the official holiday schedule from the chinese-calendar package into the editable table."

    def add_arguments(self, parser):
        parser.add_argument("years", nargs="*", type=int, help="years (default: every year the package knows)")
        parser.add_argument("--overwrite", action="store_true", help="replace years already in the table")

    def handle(self, *args, years=(), overwrite=False, **options):
        written = services.seed_holidays(years or range(2000, 2101), overwrite=overwrite)
        if written:
            self.stdout.write(_("已写入节假日安排：{first}–{last} 年（{n} 个年度）").format(
                first=written[0], last=written[-1], n=len(written)))
        else:
            self.stdout.write(_("没有需要写入的年度（已存在，或软件包没有该年度数据）"))
