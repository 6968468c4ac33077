"""The settings behind degraded services (issue #11, item 5): the forgiving cache with Redis, a short
broker connection timeout, the drain and the reaper in beat."""

from django.conf import settings as django_settings


def test_the_project_uses_the_forgiving_cache_with_redis():
    from config import settings as project

    if project.REDIS_URL:
        assert project.CACHES["default"]["BACKEND"] == "core.cache.ForgivingRedisCache"
        assert project.CACHES["default"]["OPTIONS"]["socket_connect_timeout"] <= 1


def test_publishing_gives_up_quickly():
    assert django_settings.CELERY_BROKER_CONNECTION_TIMEOUT <= 1  # the transport tries twice: under 2 s


def test_the_drain_and_the_reaper_run_in_beat():
    tasks = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"core.drain_queued_tasks", "core.reap_stale_work"} <= tasks
    assert django_settings.STALE_WORK_MINUTES > 0
