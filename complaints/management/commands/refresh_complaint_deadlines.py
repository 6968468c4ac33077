from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from complaints import services


class Command(BaseCommand):
    help = "Recompute the stored due dates of every open case (after an upgrade of the deadline rules)."

    def handle(self, *args, **options):
        changed = services.refresh_deadlines(only_provisional=False)
        self.stdout.write(_("已重新计算办理期限：{changed} 件案件有变化").format(changed=changed))
