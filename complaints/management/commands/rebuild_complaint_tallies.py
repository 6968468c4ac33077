from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from complaints import services, tallies


class Command(BaseCommand):
    help = ("Recompute the monthly tallies behind the complaint statistics and dashboards from the cases, "
            "and the questionnaires' satisfaction tallies from the answers (after a bulk import, or after "
            "COMPLAINTS_SATISFIED_THRESHOLD changed; beat also does it nightly).")

    def handle(self, *args, **options):
        cases = tallies.rebuild_complaint_tallies()
        answers = services.rebuild_satisfaction_tallies()
        self.stdout.write(_("已重新汇总：案件月度汇总 {cases} 行，满意度问卷月度汇总 {answers} 行").format(
            cases=cases, answers=answers))
