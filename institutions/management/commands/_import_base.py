"""Shared behaviour of the all-or-nothing import commands: read, validate everything, report."""

from django.core.management.base import CommandError

from institutions.tabular import ImportReport, TabularError


def fail_on_problems(command, report: ImportReport, path: str) -> None:
    if report.ok:
        return
    for problem in report.problems:
        command.stderr.write(str(problem))
    raise CommandError(f"{path}：{len(report.problems)} 行有误，未导入任何数据。")


def read_or_fail(reader, *args):
    try:
        return reader(*args)
    except TabularError as exc:
        raise CommandError(str(exc)) from exc
