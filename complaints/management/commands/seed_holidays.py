from django.core.management.base import BaseCommand

from complaints import services


class Command(BaseCommand):
    help = "Load the official holiday schedule from the chinese-calendar package into the editable table."

    def add_arguments(self, parser):
        parser.add_argument("years", nargs="*", type=int, help="years (default: every year the package knows)")
        parser.add_argument("--overwrite", action="store_true", help="replace years already in the table")

    def handle(self, *args, years=(), overwrite=False, **options):
        written = services.seed_holidays(years or range(2000, 2101), overwrite=overwrite)
        if written:
            self.stdout.write(f"已写入节假日安排：{written[0]}–{written[-1]} 年（{len(written)} 个年度）")
        else:
            self.stdout.write("没有需要写入的年度（已存在，或软件包没有该年度数据）")
