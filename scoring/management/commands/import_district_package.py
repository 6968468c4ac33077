from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

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
        words = {"created": "已导入", "updated": "已更新", "unchanged": "未改变"}
        for name in files:
            path = Path(name)
            try:
                package, outcome = services.import_city_package(path.read_bytes(), None)
            except OSError as exc:
                refused += 1
                self.stderr.write(f"{name}：无法读取（{exc.strerror}）")
                continue
            except DomainError as exc:
                refused += 1
                self.stderr.write(f"{name}：{exc}")
                continue
            self.stdout.write(f"{name}：{package.district.name} {package.year} 年度{words[outcome]}")
        if refused:
            raise CommandError(f"{refused} 个数据包未导入")
