"""The demo district, composed at the project level: every app's demo.py, in dependency order."""

from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from activities.demo import seed_activities
from complaints.demo import seed_complaints
from dashboards.demo import seed_history, seed_second_district
from inspections.demo import seed_inspections
from institutions import demo
from risk.demo import seed_risk
from scoring.demo import seed_scoring
from staff_points.demo import seed_employee_points
from tracking.demo import seed_tracking
from warnings_feed.demo import seed_warnings


class Command(BaseCommand):
    help = "Load the demo district (fictional institutions marked 演示) and demo users. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even when DEBUG is off")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG 已关闭（生产环境？）：演示数据不会写入。确需写入请加 --force。")
        counts = demo.seed_registry()
        self.stdout.write(f"机构 {counts['institutions']} 家，员工 {counts['employees']} 人")
        users = demo.seed_users()
        # The demo's cases and warnings notify fictional people: keep those mails in memory instead of
        # sending them (or printing them all with the console backend), and say how many there were.
        previous = getattr(mail, "outbox", None)  # a test run's own outbox is left as it was
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            try:
                for seeder in demo_seeders():
                    line = seeder()
                    if line:
                        self.stdout.write(line)
                held = len(mail.outbox)
            finally:
                if previous is None:
                    del mail.outbox
                else:
                    mail.outbox = previous
        if held:
            self.stdout.write(f"演示通知邮件 {held} 封（未发送）")
        self.stdout.write(self.style.SUCCESS(f"演示账号（密码均为 {demo.DEMO_PASSWORD}）："))
        for username, role in users:
            self.stdout.write(f"  {username:<12} {role}")


def demo_seeders():
    """Each app's demo data, in dependency order; each returns a one-line summary."""
    return [seed_scoring, seed_employee_points, seed_complaints, seed_warnings, seed_second_district, seed_history,
            seed_tracking, seed_inspections, seed_activities, seed_risk]
