"""Settings for the Clean Finance Portal, read from the environment (see .env.example).

Defaults give a working development portal on SQLite with Celery tasks run in process; production
sets DJANGO_DEBUG=false, DJANGO_SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL and REDIS_URL.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
_DEV_SECRET = "dev-only-insecure-key-change-me-in-production-0123456789abcdef"  # noqa: S105 (development only; refused below when DEBUG is off)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "simple_history",
    "axes",
    "csp",
    # The project's apps: the base apps first (core, institutions, accounts), then the feature apps;
    # each imports only from those above it (docs/architecture.md, .importlinter).
    "core",
    "institutions",
    "accounts",
    "notifications",
    "scoring",
    "complaints",
    "warnings_feed",
    "staff_points",
    # The programme's year (issues 13-15): tracked items (督办), inspections, activities, risk.
    "tracking",
    "inspections",
    "activities",
    "risk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A NUL or another control character in the path, the query string or a form field: 400 before
    # any view or query sees it (JSON under /api/, the Chinese page otherwise).
    "core.input_guard.ControlCharacterGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires, so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
    # Accounts created in bulk for employees must change their temporary password at first login
    # (inside axes: it sees the login's outcome before axes does, as it always has).
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    # A service's refusal (core.errors) raised in a page: 404/403 pages, or 409/400 with the reason.
    "core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when configured (shared by every process: rate limits, progress, lockouts),
# otherwise in-process memory, which is enough for one development server.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # core's RedisCache answers a miss when Redis is unreachable (pages compute instead of a 500);
    # short socket timeouts keep an unreachable server from holding a request.
    CACHES = {"default": {"BACKEND": "core.cache.ForgivingRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 2}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: its password_changed hook revokes the account's API tokens after every password change.
    {"NAME": "accounts.validators.RevokeApiTokensOnPasswordChange"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Brute-force protection: lock a username at one address after repeated failures. Locking the
# username alone (from every address) let anyone lock out any account, e.g. `finance`, by typing
# wrong passwords for it; the combination stops guessing from an address without that denial of
# service (issue #11). The address is the one the rate limits use (COMPLAINTS_CLIENT_IP_HEADER
# behind a proxy, else REMOTE_ADDR): never a header a client can set itself.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
# The Chinese lockout answer: a page, or JSON on the API's token endpoint.
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True

# API tokens expire this many days after they were issued (accounts.authentication: 401, fetch a
# new one); a password change revokes them (accounts.services.revoke_api_tokens).
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)

# Sessions end after a working half-day of inactivity and when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=4 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# Production hardening, on whenever DEBUG is off.
SECURE_COOKIES = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # The admin and import-export set a few inline style attributes.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@clean-finance.invalid")
# Every mail goes through core's outbox (core/outbox.py): a mail that fails is retried after
# MAIL_OUTBOX_RETRY_SECONDS, then after twice as long each time (at most 6 hours), and marked failed
# after MAIL_OUTBOX_MAX_ATTEMPTS attempts (the admin's "retry now" gives it another).
MAIL_OUTBOX_MAX_ATTEMPTS = env.int("MAIL_OUTBOX_MAX_ATTEMPTS", default=10)
MAIL_OUTBOX_RETRY_SECONDS = env.int("MAIL_OUTBOX_RETRY_SECONDS", default=60)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token authentication, refusing accounts that must still change their first password.
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    # A JSON body is one object (a list, a string, null or deep nesting: 400; too large: 413).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONObjectParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
}
# Public, no-login reads (public warnings pages and API, blacklist API): requests per visitor
# (django-ratelimit syntax "N/period", e.g. 120/m); empty = unlimited.
PUBLIC_READ_RATE = env.str("PUBLIC_READ_RATE", default="120/m")

SPECTACULAR_SETTINGS = {
    "TITLE": _("清廉金融管理平台 API"),
    "DESCRIPTION": "Clean Finance Portal REST API (v1)",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Celery: a real broker when configured, otherwise tasks run eagerly in the calling process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing gives up after this many seconds (twice: the transport tries again once) and the task
# waits in core's QueuedTask table for the drain (core/queue.py): a request never hangs on a dead broker.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=0.8)
# Runs, reports and fan-outs queued or running for longer than this are marked failed by the reaper
# (core.reap_stale_work), with the reason, so they can be started again.
STALE_WORK_MINUTES = env.int("STALE_WORK_MINUTES", default=120)
# A worker that dies without acknowledging its task (machine lost, SIGKILL, out of memory) leaves the
# message in Redis's unacknowledged set; once it is older than CELERY_VISIBILITY_TIMEOUT seconds, a
# surviving worker (sweeping every CELERY_UNACKED_RESTORE_INTERVAL seconds) puts it back on its queue
# and the task is redone (tasks are idempotent and acknowledged late). The timeout must exceed the
# longest task's run time, or a task still running is started a second time; it must stay below
# STALE_WORK_MINUTES, or the reaper marks the run failed before it is redone.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,
    # A worker killed during its sweep leaves the sweep's lock held this long at most.
    "unacked_mutex_expire": env.int("CELERY_UNACKED_MUTEX_EXPIRE", default=300),
}
# The closing step of a spread aggregation looks again after this many seconds (scoring/tasks.py).
SCORING_SPREAD_POLL_SECONDS = env.float("SCORING_SPREAD_POLL_SECONDS", default=5)
# A spread aggregation hands out whole districts in batches of about this many institutions, one
# task each (a bigger district is a batch of its own; 1 gives one task per district): thousands of
# small districts then cost a few dozen tasks, not thousands (docs/performance.md).
SCORING_SPREAD_TASK_INSTITUTIONS = env.int("SCORING_SPREAD_TASK_INSTITUTIONS", default=2000)
CELERY_BEAT_SCHEDULE: dict = {
    # core: send the mail outbox's due mails (each enqueuing commit also kicks a send).
    "core-send-pending-mail": {"task": "core.send_pending_mail", "schedule": 60.0},
    # core: publish the tasks stored while the broker was unreachable; mark stale runs failed.
    "core-drain-queued-tasks": {"task": "core.drain_queued_tasks", "schedule": 60.0},
    "core-reap-stale-work": {"task": "core.reap_stale_work", "schedule": 5 * 60.0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Security-relevant logs (admin changes, logins and lockouts, identity and sealed-original reveals)
# are kept this many days, never fewer than 183 (six months: 等保 2.0, 网络安全法 art. 21), then
# purged nightly (core.audit, core.purge_audit_logs).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=190)
CELERY_BEAT_SCHEDULE["core-purge-audit-logs"] = {"task": "core.purge_audit_logs",
                                                 "schedule": crontab(hour=2, minute=50)}

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False
IMPORT_EXPORT_USE_TRANSACTIONS = True
# Importing through the admin needs an explicit permission (`<app>.import_<model>`, never implied by
# add/change); exporting needs the view permission. Each import runs as the admin's scoped user.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- complaints ---
# One-code complaint intake (complaints/): PII key, rate limits, retention and beat jobs.
# COMPLAINTS_PII_KEY: one or more comma-separated Fernet keys (the first encrypts, all decrypt, so a
# key can be rotated). Generate one with:
#   python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
_COMPLAINTS_DEV_PII_KEY = "ZGV2LW9ubHktY29tcGxhaW50cy1waWkta2V5LTAwMDA="
COMPLAINTS_PII_KEYS = [k.strip() for k in env.str("COMPLAINTS_PII_KEY", default=_COMPLAINTS_DEV_PII_KEY).split(",")
                       if k.strip()]
if not DEBUG and (not COMPLAINTS_PII_KEYS or _COMPLAINTS_DEV_PII_KEY in COMPLAINTS_PII_KEYS):
    raise ImproperlyConfigured("COMPLAINTS_PII_KEY must be set to a real Fernet key when DJANGO_DEBUG is off.")
# Background exports (core.export_jobs, issue 16): a page writes an export of up to this many rows (or
# institutions) in the request, and offers a larger one as a Celery task whose file is kept here
# (private; served to its requester only) for EXPORT_RETENTION_DAYS after it was made, then deleted.
EXPORT_INLINE_ROWS = env.int("EXPORT_INLINE_ROWS", default=2000)
# A page of posters not made yet for more institutions than this is made in the background too (each
# new QR code takes about 5 ms; once made, any number is streamed from the stored file).
COMPLAINTS_POSTERS_INLINE = env.int("COMPLAINTS_POSTERS_INLINE", default=100)
EXPORTS_ROOT = env.path("EXPORTS_ROOT", default=BASE_DIR / "private_media" / "exports")
EXPORT_RETENTION_DAYS = env.int("EXPORT_RETENTION_DAYS", default=7)
# Admin changelists count at most this many rows; past it the pager says "more than N" (core.admin_scale).
ADMIN_COUNT_LIMIT = env.int("ADMIN_COUNT_LIMIT", default=10000)
CELERY_BEAT_SCHEDULE["core-purge-export-jobs"] = {"task": "core.purge_export_jobs",
                                                  "schedule": crontab(hour=3, minute=10)}
# Where evidence images (working copies and sealed originals) live: never under MEDIA_ROOT, which
# may be served publicly; they are only served through permission-checked views.
COMPLAINTS_EVIDENCE_ROOT = env.path("COMPLAINTS_EVIDENCE_ROOT", default=BASE_DIR / "private_media" / "complaints")
# Base URL printed in QR codes and posters (e.g. https://qlj.example.gov.cn); empty = the request's host.
COMPLAINTS_PUBLIC_BASE_URL = env.str("COMPLAINTS_PUBLIC_BASE_URL", default="").rstrip("/")
# Rate limits (django-ratelimit syntax "N/period"); empty string = unlimited (benchmarks only).
COMPLAINTS_RATE_SUBMIT_IP = env.str("COMPLAINTS_RATE_SUBMIT_IP", default="30/h")
COMPLAINTS_RATE_SUBMIT_CODE = env.str("COMPLAINTS_RATE_SUBMIT_CODE", default="120/h")
COMPLAINTS_RATE_TRACK_IP = env.str("COMPLAINTS_RATE_TRACK_IP", default="20/m")
# Behind a reverse proxy, the request header holding the client's address (e.g. HTTP_X_REAL_IP);
# empty = REMOTE_ADDR. Without it every visitor would share the proxy's address and its limit.
COMPLAINTS_CLIENT_IP_HEADER = env.str("COMPLAINTS_CLIENT_IP_HEADER", default="")
# Closed cases' personal data (name, phone, sealed originals) is erased this many days after closing.
COMPLAINTS_PII_RETENTION_DAYS = env.int("COMPLAINTS_PII_RETENTION_DAYS", default=365)
# Deadlines within this many days are "due soon" and reminded.
COMPLAINTS_DUE_SOON_DAYS = env.int("COMPLAINTS_DUE_SOON_DAYS", default=3)
# New-case notifications are queued at most once per this many seconds per process (0 = per case);
# the rest go with the next one or the beat run every minute.
COMPLAINTS_NOTIFY_BATCH_SECONDS = env.int("COMPLAINTS_NOTIFY_BATCH_SECONDS", default=5)
# Duplicate suggestions: same institution and staff, similar text, received within this window.
COMPLAINTS_DUPLICATE_WINDOW_DAYS = env.int("COMPLAINTS_DUPLICATE_WINDOW_DAYS", default=30)
# OpenAPI: the complaints' choice sets get their own enum names (other apps also have "kind"/"status").
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update({
    "ComplaintKindEnum": "complaints.models.Kind",
    "ComplaintStatusEnum": "complaints.models.Status",
    "ComplaintOutcomeEnum": "complaints.models.Outcome",
    # Choice sets of the same field name in several apps: one name each (check --deploy stays clean).
    "InstitutionCategoryEnum": "institutions.models.InstitutionCategory",
    "WarningSeverityEnum": "warnings_feed.models.Severity",
    "FindingSeverityEnum": "inspections.models.Severity",
    "VisitKindEnum": "inspections.models.VisitKind",
    "UploadKindEnum": "risk.models.Kind",
    "RiskAlertStatusEnum": "risk.models.AlertStatus",
})
CELERY_BEAT_SCHEDULE.update({
    "complaints-flush-notifications": {"task": "complaints.tasks.send_pending_notifications", "schedule": 60.0},
    "complaints-check-deadlines": {"task": "complaints.tasks.check_deadlines", "schedule": 60.0 * 60},
    "complaints-erase-expired-pii": {"task": "complaints.tasks.erase_expired_personal_data",
                                     "schedule": 60.0 * 60 * 24},
    # Nightly (03:10, CELERY_TIMEZONE): recompute the questionnaires' monthly tallies from the answers.
    "complaints-rebuild-satisfaction-tallies": {"task": "complaints.rebuild_satisfaction_tallies",
                                                "schedule": crontab(hour=3, minute=10)},
    # Nightly (03:20): recompute the cases' monthly tallies (statistics, dashboards) from the cases.
    "complaints-rebuild-complaint-tallies": {"task": "complaints.rebuild_complaint_tallies",
                                             "schedule": crontab(hour=3, minute=20)},
})

# --- scoring ---
# Days before the self-assessment due date on which unsubmitted institutions are reminded.
SCORING_REMINDER_DAYS = env.int("SCORING_REMINDER_DAYS", default=7)
CELERY_BEAT_SCHEDULE.update({
    "scoring-scheduled-aggregation": {"task": "scoring.scheduled_aggregation", "schedule": 60 * 60},
    "scoring-remind-unsubmitted": {"task": "scoring.remind_unsubmitted", "schedule": 24 * 60 * 60},
})

# --- warnings_feed ---
# Warnings to employees (warnings_feed/): acknowledgement deadline, reminders.
# Employees are reminded when they have not tapped 已阅知悉 this many days after delivery (and again
# every as many days, at most WARNINGS_MAX_REMINDERS times; checked hourly); acknowledging within it
# is "on time" (the acknowledgement tallies count with it: after changing it, run the task
# warnings_feed.rebuild_tallies, or wait for its nightly run).
WARNINGS_ACKNOWLEDGE_WITHIN_DAYS = env.int("WARNINGS_ACKNOWLEDGE_WITHIN_DAYS", default=3)
WARNINGS_MAX_REMINDERS = env.int("WARNINGS_MAX_REMINDERS", default=3)
# The portal's address, for links in reminder mails.
WARNINGS_PORTAL_URL = env.str("WARNINGS_PORTAL_URL", default="http://127.0.0.1:8000")
CELERY_BEAT_SCHEDULE.update({
    "warnings-publish-due": {"task": "warnings_feed.publish_due", "schedule": 60.0},
    "warnings-remind-unacknowledged": {"task": "warnings_feed.remind_unacknowledged", "schedule": 60 * 60.0},
    # Nightly (03:40, CELERY_TIMEZONE): recount the acknowledgement tallies from the deliveries.
    "warnings-rebuild-tallies": {"task": "warnings_feed.rebuild_tallies",
                                 "schedule": crontab(hour=3, minute=40)},
})

# --- dashboards ---
INSTALLED_APPS += ["dashboards"]
# Figures from results are cached until the results change (an aggregation, a publish, a reopen);
# this lifetime is only a safety net. Activity figures (complaints, satisfaction, acknowledgements)
# are never cached.
DASHBOARDS_RESULTS_CACHE_SECONDS = env.int("DASHBOARDS_RESULTS_CACHE_SECONDS", default=86400)

# --- portal ---
# The project level, last: composes every app (seed_demo); no app imports it.
INSTALLED_APPS += ["portal"]


# --- tracking (督办事项: every "reply by a date" duty) --------------------------------------------
# Evidence files of replies (private, served only by permission-checked views).
TRACKING_EVIDENCE_ROOT = env.path("TRACKING_EVIDENCE_ROOT", default=BASE_DIR / "private_media" / "tracking")
# Reminders: a few calendar days before the due date, the day after it; escalation to the head and
# the finance center once an item is this many days overdue.
TRACKING_REMIND_DAYS_BEFORE = env.int("TRACKING_REMIND_DAYS_BEFORE", default=3)
TRACKING_ESCALATE_AFTER_DAYS = env.int("TRACKING_ESCALATE_AFTER_DAYS", default=5)
TRACKING_PORTAL_URL = env.str("TRACKING_PORTAL_URL", default="http://127.0.0.1:8000")
CELERY_BEAT_SCHEDULE["tracking-send-reminders"] = {"task": "tracking.send_reminders", "schedule": 60 * 60.0}

# --- inspections (督查与整改) ----------------------------------------------------------------------
# Photos (working copies and sealed originals) and archived rectification notices: private files.
INSPECTIONS_FILES_ROOT = env.path("INSPECTIONS_FILES_ROOT", default=BASE_DIR / "private_media" / "inspections")
# Notice numbers: "<prefix>〔year〕n号"; the prefix defaults to the district's first character + 金清整
# (路桥区 → 路金清整); set others per district code here.
INSPECTIONS_NOTICE_PREFIXES: dict[str, str] = {}
# Nightly (03:50): recount the stored rectification figures (overdue moves with the calendar).
CELERY_BEAT_SCHEDULE["inspections-recount-tallies"] = {"task": "inspections.recount_tallies",
                                                       "schedule": crontab(hour=3, minute=50)}

# --- activities (年度活动、培训、通知与专项) --------------------------------------------------------
# The training hours an employee must reach in a year to count as "completed" (培训达标).
ACTIVITIES_TRAINING_HOURS_REQUIRED = env.int("ACTIVITIES_TRAINING_HOURS_REQUIRED", default=8)
# Photos, materials, notice attachments, returns and archives (private; served by checked views only).
ACTIVITIES_FILES_ROOT = env.str("ACTIVITIES_FILES_ROOT", default=str(BASE_DIR / "private_media" / "activities"))
# Returns (报送) are tracked items: their reminders and escalation are tracking's (TRACKING_* settings).

# --- risk (数智监督风险预警, RISK.md) ---------------------------------------------------------------
# Loaded extracts (transactions, relationships, events) are deleted this many days after loading.
RISK_RETENTION_DAYS = env.int("RISK_RETENTION_DAYS", default=365)
# Open alerts due within this many days are reminded once per due date (mail and channels, 08:30).
RISK_REMIND_DAYS_BEFORE = env.int("RISK_REMIND_DAYS_BEFORE", default=2)
# A CSV of transactions with at least this many lines is checked and written inside PostgreSQL (one
# COPY, the checks as one query); smaller or bad files are checked row by row (docs/performance.md).
RISK_FAST_LOAD_MIN_ROWS = env.int("RISK_FAST_LOAD_MIN_ROWS", default=20000)
CELERY_BEAT_SCHEDULE.update({
    # Monthly (1st, 02:30): screen last month for every institution with loaded data.
    "risk-screen-previous-month": {"task": "risk.screen_previous_month",
                                   "schedule": crontab(day_of_month=1, hour=2, minute=30)},
    "risk-purge-expired": {"task": "risk.purge_expired", "schedule": crontab(hour=3, minute=50)},
    "risk-remind-overdue": {"task": "risk.remind_overdue", "schedule": crontab(hour=8, minute=30)},
    "risk-refresh-summaries": {"task": "risk.refresh_summaries", "schedule": crontab(hour=4, minute=10)},
})

# --- operations (issue 16: health, metrics, request ids, logs, queues, production start) -----------
# Request ids first (every log line of a request carries its id), then the metrics' timing, then the
# probes (/healthz, /readyz) answered before the host check and the HTTPS redirect.
MIDDLEWARE = ["core.request_id.RequestIdMiddleware", "core.metrics.MetricsMiddleware",
              "core.health.ProbeMiddleware", *MIDDLEWARE]
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# /metrics answers these client addresses or networks (comma-separated, e.g. 10.0.0.0/8,127.0.0.1)
# and any request bearing `Authorization: Bearer <METRICS_BEARER_TOKEN>` (empty = no token accepted).
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_BEARER_TOKEN = env.str("METRICS_BEARER_TOKEN", default="")
# /readyz: how long the broker may take to answer (seconds).
READYZ_BROKER_TIMEOUT = env.float("READYZ_BROKER_TIMEOUT", default=1.0)
# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id, ...);
# otherwise plain text, with the request id too.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING["filters"] = {"request_id": {"()": "core.request_id.RequestIdFilter"}}
LOGGING["formatters"]["plain"]["format"] = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"
LOGGING["formatters"]["json"] = {"()": "core.logs.JsonFormatter"}
LOGGING["handlers"]["console"]["filters"] = ["request_id"]
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_FORMAT == "json" else "plain"
# One line per request (method, path, status, time) from core.request_id; WARNING silences it.
LOGGING["loggers"]["portal.request"] = {"level": env.str("REQUEST_LOG_LEVEL", default="INFO")}
# Queues: production runs a `default` and a `heavy` queue (deploy/: the worker consumes both, a
# second worker may consume `heavy` only). Unset, everything goes to Celery's one queue as before.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_HEAVY_QUEUE = env.str("CELERY_HEAVY_QUEUE", default="")
if CELERY_HEAVY_QUEUE:
    CELERY_TASK_ROUTES = {name: {"queue": CELERY_HEAVY_QUEUE} for name in (
        "scoring.aggregate", "scoring.aggregate_districts", "scoring.aggregate_year", "scoring.finish_year_aggregation",
        "dashboards.annual_report", "warnings_feed.fan_out", "complaints.rebuild_satisfaction_tallies",
        "complaints.rebuild_complaint_tallies", "warnings_feed.rebuild_tallies", "core.run_export_job")}
# The queues whose lengths /metrics reports.
METRICS_CELERY_QUEUES = [CELERY_TASK_DEFAULT_QUEUE, *([CELERY_HEAVY_QUEUE] if CELERY_HEAVY_QUEUE else [])]
# Files (docs/deployment.md, "Files"): PORTAL_STORAGE=local keeps them on this machine's disk (the
# folders above); PORTAL_STORAGE=s3 keeps every stored file (evidence, photos and their sealed,
# encrypted originals, reports, letters, archives, posters) in one S3-compatible bucket (MinIO, OSS,
# COS, S3) shared by every machine: media under `media/`, the private files under `private/<app>/`
# (core/storage.py). Downloads still go through the portal's permission-checked views.
PORTAL_STORAGE = env.str("PORTAL_STORAGE", default="local")
if PORTAL_STORAGE == "s3":
    _S3 = {
        "bucket_name": env.str("PORTAL_S3_BUCKET"),
        "endpoint_url": env.str("PORTAL_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("PORTAL_S3_REGION", default="") or None,
        "access_key": env.str("PORTAL_S3_ACCESS_KEY", default="") or None,
        "secret_key": env.str("PORTAL_S3_SECRET_KEY", default="") or None,
        "addressing_style": env.str("PORTAL_S3_ADDRESSING_STYLE", default="path"),
        "signature_version": "s3v4",
        "default_acl": None,  # the bucket is private; no object is ever public
        "querystring_auth": True,
        "querystring_expire": env.int("PORTAL_S3_URL_SECONDS", default=300),
        "file_overwrite": False,
    }
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**_S3, "location": "media"}}
    STORAGES["private"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**_S3, "location": "private"}}
elif PORTAL_STORAGE != "local":
    raise ImproperlyConfigured("PORTAL_STORAGE must be 'local' or 's3'.")

# --- complaints deadlines (issue #12: deadlines as the law counts them, terms, settings) -----------
# The basis new cases are handled under: "financial" (the regulators' rules: 消费投诉处理管理办法 for
# complaints and suggestions, 违法行为举报处理办法 for reports) or "xinfang" (信访工作条例 2022). The
# finance center may change it on each case (action set_basis).
COMPLAINTS_DEFAULT_BASIS = env.str("COMPLAINTS_DEFAULT_BASIS", default="financial")
if COMPLAINTS_DEFAULT_BASIS not in ("financial", "xinfang"):
    raise ImproperlyConfigured("COMPLAINTS_DEFAULT_BASIS must be 'financial' or 'xinfang'.")
# 交办: the working days an institution has to reply when the finance center gives none (1-60).
COMPLAINTS_REFER_REPLY_WORKING_DAYS = env.int("COMPLAINTS_REFER_REPLY_WORKING_DAYS", default=10)
# "Satisfied" (满意): the mean of a rating's 1-5 scores is at least this. 4 (满意) by default; Zhejiang's
# 好差评 practice counts 基本满意 (3) as good: set 3 to follow it. Applies to answers stored from then
# on (a questionnaire answer keeps the satisfaction computed when it was given) and to public ratings
# (counted in the cases' monthly tallies: after changing it, run `manage.py rebuild_complaint_tallies`,
# or wait for the nightly rebuild).
COMPLAINTS_SATISFIED_THRESHOLD = env.float("COMPLAINTS_SATISFIED_THRESHOLD", default=4.0)
if not 1 <= COMPLAINTS_SATISFIED_THRESHOLD <= 5:
    raise ImproperlyConfigured("COMPLAINTS_SATISFIED_THRESHOLD must be between 1 and 5.")
# November (and December): remind the finance center to enter next year's holiday schedule while the
# holiday table lacks it (once a month, through core.outbox).
CELERY_BEAT_SCHEDULE["complaints-holiday-schedule-reminder"] = {
    "task": "complaints.remind_holiday_schedule", "schedule": crontab(hour=9, minute=0)}

# --- shell (issue 12: navigation, role home, error pages) -------------------------------------------
# The navigation bar and breadcrumbs of every page (core/shell.py); the CSRF refusal in Chinese.
TEMPLATES[0]["OPTIONS"]["context_processors"].append("core.shell.shell")
CSRF_FAILURE_VIEW = "core.error_pages.csrf_failure"
# A rate (satisfaction, acknowledgement) shown on a page or chart needs at least this many answers;
# below it the page says 样本不足 instead of a figure that swings between 0 and 100 %.
CHARTS_MIN_SAMPLE = env.int("CHARTS_MIN_SAMPLE", default=5)
# The API's description in the reader's language (drf-spectacular renders lazy translations).
SPECTACULAR_SETTINGS["DESCRIPTION"] = _(
    "清廉金融管理平台 REST 接口（v1）：机构名录、清廉积分测评、一码举报、警示信息、员工积分与数据看板。"
    "按区县分租户：每个请求只看到本人被授权区县与机构的数据；他区县或他机构的对象一律 404。")

# --- notifications (issue #17: SMS, DingTalk, WeCom and e-mail; letters; the city exchange) ---------
# docs/notifications.md says how to connect each channel. Channels this installation uses (the others
# are never tried) and those an institution or user without a preference gets.
NOTIFY_CHANNELS = env.list("NOTIFY_CHANNELS", default=["email"])
NOTIFY_DEFAULT_CHANNELS = env.list("NOTIFY_DEFAULT_CHANNELS", default=["email"])
# SMS through an HTTP gateway: POST JSON {"phone", "text", "sign"} with a Bearer token; {"code": 0} is success.
NOTIFY_SMS_URL = env.str("NOTIFY_SMS_URL", default="")
NOTIFY_SMS_TOKEN = env.str("NOTIFY_SMS_TOKEN", default="")
NOTIFY_SMS_SIGN = env.str("NOTIFY_SMS_SIGN", default="清廉金融")  # i18n-exempt: the SMS gateway signature
# The finance center's own group robots (institutions set theirs in 通知偏好).
NOTIFY_DINGTALK_WEBHOOK = env.str("NOTIFY_DINGTALK_WEBHOOK", default="")
NOTIFY_DINGTALK_SECRET = env.str("NOTIFY_DINGTALK_SECRET", default="")
NOTIFY_WECOM_WEBHOOK = env.str("NOTIFY_WECOM_WEBHOOK", default="")
# WeCom's API for the institutions' self-built apps (channel wecom_app: the questionnaire push by WeCom);
# a private deployment of WeCom (企业微信私有化) has its own address.
NOTIFY_WECOM_API = env.str("NOTIFY_WECOM_API", default="https://qyapi.weixin.qq.com")
NOTIFY_HTTP_TIMEOUT = env.float("NOTIFY_HTTP_TIMEOUT", default=5.0)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)
NOTIFY_RETRY_SECONDS = env.int("NOTIFY_RETRY_SECONDS", default=60)
# No SMS or robot message in these local hours (e-mail is not held); "" switches it off.
NOTIFY_QUIET_HOURS = env.str("NOTIFY_QUIET_HOURS", default="22:00-07:30")
# At most this many messages per recipient (phone, robot) and hour; 0: no limit. DingTalk robots take 20/min.
NOTIFY_RATE_LIMIT_PER_HOUR = env.int("NOTIFY_RATE_LIMIT_PER_HOUR", default=20)
CELERY_BEAT_SCHEDULE["notifications-send-due"] = {"task": "notifications.send_due", "schedule": 60.0}
# Letters (结果运用函): recipients per use, and addresses that get the "letters ready" mail.
SCORING_LETTER_RECIPIENTS = env.dict("SCORING_LETTER_RECIPIENTS", default={})
SCORING_LETTER_EMAILS = {use: env.list(f"SCORING_LETTER_EMAILS_{use.upper()}", default=[])
                         for use in ("fiscal_tender", "party_building", "performance_appraisal")}
# A push that a warning arrived (never its names), to the institutions' channels, every minute.
CELERY_IMPORTS = [*globals().get("CELERY_IMPORTS", []), "warnings_feed.push", "complaints.survey_push"]
CELERY_BEAT_SCHEDULE["notifications-warnings-arrived"] = {"task": "warnings_feed.push_arrivals", "schedule": 60.0}
# Questionnaire push (清廉码): lists whose send was never queued; lists are keyed with NOTIFY_LIST_KEY
# (Fernet keys, comma-separated; default: COMPLAINTS_PII_KEY).
CELERY_BEAT_SCHEDULE["notifications-survey-pushes"] = {"task": "complaints.send_waiting_survey_pushes",
                                                      "schedule": 300.0}
NOTIFY_LIST_KEYS = [k.strip() for k in env.str("NOTIFY_LIST_KEY", default="").split(",") if k.strip()]
