"""Settings for the intake benchmark: the portal's own settings plus one trivial view (the ceiling)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.complaints.urls"
