from celery import shared_task

from . import services


@shared_task(name="notifications.send_due", ignore_result=True)
def send_due_messages() -> int:
    return services.send_due()
