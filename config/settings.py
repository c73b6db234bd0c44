"""Tranche settings: one module, every value from the environment.

With no ``DATABASE_URL`` the project runs on SQLite (WAL, IMMEDIATE transactions); with no
``REDIS_URL`` Celery runs eagerly, Channels uses the in-memory layer and the cache is local
memory. That "embedded default" is what ``make run`` uses on a bare machine. Tests and
production set both. The README has the full table of variables.
"""

import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# With DEBUG off, sandbox and console adapters are refused at start-up unless this says the
# deployment means them (demos, staging, load tests); then every response carries
# `X-Sandbox-Providers` and the admin shows a banner (config/production.py).
SANDBOX_PROVIDERS = env.bool("SANDBOX_PROVIDERS", default=False)
# No secret has a default: with DEBUG off, config/production.py refuses a missing, short or
# placeholder key. The development fallbacks below exist only with DEBUG on.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"  # noqa: S105 (DEBUG only)
# JWTs have their own key, so SECRET_KEY (sessions, password resets) and the API's tokens do not
# fall together.
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default="")
if not JWT_SIGNING_KEY and DEBUG:
    JWT_SIGNING_KEY = "insecure-development-jwt-key-only-used-with-DEBUG-on"  # DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    # First, so its `createsuperuser` (a refusal pointing at `create_staff`) is the one that runs.
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_filters",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "channels",
    "core",
    "integrations",
    "notifications",
    "kyc",
    "wallet",
    "invoices",
    "tax",
    "trading",
    # After trading and before bidding: `seed_demo_data` seeds apps in this order.
    "servicing",
    "bidding",
    "reports",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "integrations.middleware.SandboxNoticeMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "core.middleware.RequestLimitsMiddleware",
    "core.middleware.StaffNetworkMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "integrations.context_processors.sandbox",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's psycopg pool; it requires CONN_MAX_AGE=0 (the pool keeps connections).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        # Parameters travel apart from the SQL, so psycopg does not quote them into the text in
        # Python, and a statement run DATABASE_PREPARE_THRESHOLD times on a connection is
        # prepared (parsed and planned once). Turn both off behind a pooler that cannot keep
        # prepared statements (PgBouncer before 1.21).
        if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
            DATABASES["default"].setdefault("OPTIONS", {}).update({
                "server_side_binding": True,
                "prepare_threshold": env.int("DATABASE_PREPARE_THRESHOLD", default=5),
            })
        if env.bool("DATABASE_POOL", default=True):
            DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
                "min_size": env.int("DATABASE_POOL_MIN", default=2),
                "max_size": env.int("DATABASE_POOL_MAX", default=20),
                "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
            }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
                # failing with "database is locked" half-way through a transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# --- Redis: cache, Celery broker, Channels layer ----------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
            "KEY_PREFIX": "tranche",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py's default 5 s socket timeout equals channels-redis's 5 s BZPOPMIN, so an
            # idle consumer's read times out and its WebSocket dies: read for longer than that.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Eager mode still opens a producer per `.delay()`: an in-memory broker named by host, so kombu
# does not warn "No hostname was supplied" on the embedded default.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Kolkata"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Where beat keeps its last-run times (celery's own default: the working directory).
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default="celerybeat-schedule")
# The outbox relay (`manage.py outbox_relay`) looks for new messages this often when idle.
OUTBOX_POLL_SECONDS = env.float("OUTBOX_POLL_SECONDS", default=0.05)
# At most this many messages of the batch handlers are delivered in one transaction.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=200)
# /readyz fails when the oldest undelivered message has waited longer than this (0: never).
OUTBOX_READY_MAX_LAG_SECONDS = env.float("OUTBOX_READY_MAX_LAG_SECONDS", default=0)
# Periodic jobs. `manage.py run_periodic NAME|--all` runs them by hand on the embedded default.
CELERY_BEAT_SCHEDULE = {
    "outbox-drain": {"task": "core.tasks.outbox_drain_task", "schedule": 5.0},
    "idempotency-purge": {"task": "core.tasks.idempotency_purge_task", "schedule": 3600.0},
    "notification-delivery-sweep": {"task": "notifications.tasks.notification_delivery_sweep_task", "schedule": 300.0},
    "kyc-verification-sweep": {"task": "kyc.tasks.verification_sweep_task", "schedule": 60.0},
    "wallet-payouts-resume": {"task": "wallet.tasks.withdrawal_resume_task", "schedule": 300.0},
    "wallet-reconcile-nightly": {
        "task": "wallet.tasks.reconcile_task",
        "schedule": crontab(hour=2, minute=30),  # 02:30 Asia/Kolkata
    },
    # Hourly; idempotent per day (a second run accrues nothing).
    "invoices-overdue": {"task": "invoices.tasks.overdue_sweep_task", "schedule": 3600.0},
    "trading-listing-expiry": {"task": "trading.tasks.listing_expire_task", "schedule": 60.0},
    "servicing-days-past-due": {
        "task": "servicing.tasks.days_past_due_task",
        "schedule": crontab(hour=0, minute=15),  # daily, 00:15 Asia/Kolkata
    },
    "bidding-bid-expiry": {"task": "bidding.tasks.bid_expire_task", "schedule": 60.0},
    "reports-exports-purge": {"task": "reports.tasks.report_export_purge_task", "schedule": 3600.0},
}

# --- Auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "admin:login"

OTP_LENGTH = 6
OTP_TTL_SECONDS = env.int("OTP_TTL_SECONDS", default=300)
OTP_RESEND_SECONDS = env.int("OTP_RESEND_SECONDS", default=30)
# Sign-in limits (accounts.services), keyed so that a stranger cannot spend the owner's:
# wrong tries and sends per phone and IP, with a ceiling per phone across all IPs.
OTP_MAX_ATTEMPTS = 5  # wrong tries per phone and IP, until that pair asks for a new code
OTP_MAX_FAILURES_PER_PHONE_PER_HOUR = env.int("OTP_MAX_FAILURES_PER_PHONE_PER_HOUR", default=50)
OTP_MAX_SENDS_PER_PHONE_PER_IP_PER_HOUR = env.int("OTP_MAX_SENDS_PER_PHONE_PER_IP_PER_HOUR", default=5)
OTP_MAX_SENDS_PER_PHONE_PER_HOUR = env.int("OTP_MAX_SENDS_PER_PHONE_PER_HOUR", default=20)
OTP_MAX_SENDS_PER_IP_PER_HOUR = env.int("OTP_MAX_SENDS_PER_IP_PER_HOUR", default=20)
OTP_TOTP_ISSUER = env.str("TOTP_ISSUER", default="Tranche")
# The admin's sign-in (accounts/admin_login.py): failures per IP and per account within the
# window before a lockout for the rest of it.
ADMIN_LOGIN_MAX_FAILURES_PER_IP = env.int("ADMIN_LOGIN_MAX_FAILURES_PER_IP", default=20)
ADMIN_LOGIN_MAX_FAILURES_PER_ACCOUNT = env.int("ADMIN_LOGIN_MAX_FAILURES_PER_ACCOUNT", default=5)
ADMIN_LOGIN_LOCKOUT_SECONDS = env.int("ADMIN_LOGIN_LOCKOUT_SECONDS", default=900)
# An invitation to join an organization (or a party of it) waits this long for its answer.
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=14)
# How many proxies sit in front of the app; the client IP is taken that far from the right
# of X-Forwarded-For. 0 means "use REMOTE_ADDR" (never trust a header nobody sets).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# Request limits (core/parsers.py, core/middleware.py): a JSON body, its nesting, any body.
API_JSON_MAX_BYTES = env.int("API_JSON_MAX_BYTES", default=1024 * 1024)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=8 * 1024 * 1024)  # uploads are ≤ 5 MB

REST_FRAMEWORK = {
    # simplejwt's, plus impersonation tokens (`act` claim): refused on /admin/, audited per request.
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TrancheJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "core.exception_handler.ExceptionHandler",
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "409", "413", "415", "422", "429", "500"],
    # Every error status documents API.md's one shape (core/openapi.py), domain codes included.
    "ERROR_SCHEMAS": {
        code: "core.openapi.ErrorResponseSerializer"
        for code in ("400", "401", "403", "404", "405", "409", "413", "415", "422", "429", "500")
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tranche API",
    "DESCRIPTION": "Receivables marketplace: financing, fractional units, trading, servicing.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc served from our own static files, so the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would send the schema to validator.swagger.io for its badge; ReDoc's theme
    # asks for web fonts that core/redoc.html no longer loads: the system's fonts instead.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif"},
            }
        }
    },
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # `<id:…>` path parameters (core/converters.py) are integers.
    "PATH_CONVERTER_OVERRIDES": {"id": int},
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
        "UserRoleEnum": "accounts.enums.Role.choices",
        "OrganizationRoleEnum": "accounts.enums.OrganizationRole.choices",
        "InvitationStatusEnum": "accounts.enums.InvitationStatus.choices",
        "NotificationKindEnum": "notifications.enums.NotificationKind.choices",
        "NotificationChannelEnum": "notifications.enums.DeliveryChannel.choices",
        "KycKindEnum": "kyc.enums.KYCKind.choices",
        "KycStatusEnum": "kyc.enums.KYCStatus.choices",
        "KycDocumentKindEnum": "kyc.enums.DocumentKind.choices",
        "BankAccountStatusEnum": "kyc.enums.BankAccountStatus.choices",
        "DepositStatusEnum": "wallet.enums.DepositStatus.choices",
        "DepositMethodEnum": "wallet.enums.DepositMethod.choices",
        "WithdrawalStatusEnum": "wallet.enums.WithdrawalStatus.choices",
        "PartyKindEnum": "invoices.enums.PartyKind.choices",
        "PartyRoleEnum": "invoices.enums.PartyRole.choices",
        "ProgramKindEnum": "invoices.enums.ProgramKind.choices",
        "ProgramStatusEnum": "invoices.enums.ProgramStatus.choices",
        "InvoiceStatusEnum": "invoices.enums.InvoiceStatus.choices",
        "FinanceRequestStatusEnum": "invoices.enums.FinanceRequestStatus.choices",
        "WorkflowActionEnum": "invoices.enums.WorkflowAction.choices",
        "BidStatusEnum": "bidding.enums.BidStatus.choices",
        "BidSideEnum": "bidding.enums.BidSide.choices",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}

# --- Money and fees ---------------------------------------------------------------------
CURRENCY = "INR"
# Marketplace fees in basis points of trade value; the seller's fee applies to secondary sales only.
BUYER_FEE_BPS = env.int("BUYER_FEE_BPS", default=25)
SELLER_FEE_BPS = env.int("SELLER_FEE_BPS", default=25)

# --- Integrations: each outside service is an adapter chosen here ------------------------
SMS_PROVIDER = env.str("SMS_PROVIDER", default="console")
TEXTLOCAL_API_URL = env.str("TEXTLOCAL_API_URL", default="https://api.textlocal.in/send/")
TEXTLOCAL_API_KEY = env.str("TEXTLOCAL_API_KEY", default="")
TEXTLOCAL_SENDER = env.str("TEXTLOCAL_SENDER", default="TRANCH")
INTEGRATION_TIMEOUT_SECONDS = env.float("INTEGRATION_TIMEOUT_SECONDS", default=10.0)
INTEGRATION_MAX_RETRIES = env.int("INTEGRATION_MAX_RETRIES", default=2)
# Email (notifications): Django's backend; the console one prints each message to stdout.
EMAIL_PROVIDER = env.str("EMAIL_PROVIDER", default="django")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=INTEGRATION_TIMEOUT_SECONDS)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tranche <no-reply@tranche.local>")

# --- Notifications and live updates (notifications app) ----------------------------------
# A listing's marketplace update goes out at most once per interval (latest state wins).
MARKETPLACE_PUSH_INTERVAL_MS = env.int("MARKETPLACE_PUSH_INTERVAL_MS", default=250)
KYC_PROVIDER = env.str("KYC_PROVIDER", default="sandbox")
SIGNZY_BASE_URL = env.str("SIGNZY_BASE_URL", default="https://api.signzy.app/api/v3")
SIGNZY_API_KEY = env.str("SIGNZY_API_KEY", default="")
BANK_PROVIDER = env.str("BANK_PROVIDER", default="sandbox")
RAZORPAYX_BASE_URL = env.str("RAZORPAYX_BASE_URL", default="https://api.razorpay.com/v1")
RAZORPAYX_KEY_ID = env.str("RAZORPAYX_KEY_ID", default="")
RAZORPAYX_KEY_SECRET = env.str("RAZORPAYX_KEY_SECRET", default="")
RAZORPAYX_ACCOUNT_NUMBER = env.str("RAZORPAYX_ACCOUNT_NUMBER", default="")

# --- KYC and onboarding (kyc app) -------------------------------------------------------
# The wallet composes KYC and bank status with whether its accounts are open.
ONBOARDING_PROVIDER = "wallet.selectors.wallet_onboarding_status"
# The staff user list (accounts) annotates KYC and bank status with the KYC app's own rule.
ONBOARDING_ANNOTATION = "kyc.selectors.users_with_onboarding"
# Every app that pays investors income adds its rows to their tax statement (tax.selectors).
TAX_INCOME_SOURCES = ["servicing.selectors.tax_income_for_user"]
# Below this name-match score (0-100) a PAN goes to manual review and a bank account fails.
KYC_NAME_MATCH_THRESHOLD = env.int("KYC_NAME_MATCH_THRESHOLD", default=80)
KYC_VERIFY_MAX_ATTEMPTS = env.int("KYC_VERIFY_MAX_ATTEMPTS", default=6)
KYC_DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
KYC_MAX_BANK_ACCOUNTS = 5
# Encryption at rest (core/crypto.py): comma-separated Fernet keys, the first encrypts, all
# decrypt (rotate with `manage.py rotate_encryption_keys`); HMAC key for blind indexes.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="")
if not DEBUG and not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off.")

# --- Wallet: payments in, payouts out (wallet app) ----------------------------------------
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="sandbox")
PAYOUT_PROVIDER = env.str("PAYOUT_PROVIDER", default="sandbox")
# Sandbox webhooks are signed like real ones. Never derived from another secret: unset, each
# process draws a random one (the sandbox's own payment page signs and verifies in one
# process); set it to deliver sandbox webhooks from outside (bench/chaos does).
PAYMENT_SANDBOX_WEBHOOK_SECRET = env.str("PAYMENT_SANDBOX_WEBHOOK_SECRET", default="") or secrets.token_hex(32)
PAYOUT_SANDBOX_WEBHOOK_SECRET = env.str("PAYOUT_SANDBOX_WEBHOOK_SECRET", default="") or secrets.token_hex(32)
RAZORPAY_BASE_URL = env.str("RAZORPAY_BASE_URL", default="https://api.razorpay.com/v1")
RAZORPAY_KEY_ID = env.str("RAZORPAY_KEY_ID", default="")
RAZORPAY_KEY_SECRET = env.str("RAZORPAY_KEY_SECRET", default="")
RAZORPAY_WEBHOOK_SECRET = env.str("RAZORPAY_WEBHOOK_SECRET", default="")
RAZORPAYX_WEBHOOK_SECRET = env.str("RAZORPAYX_WEBHOOK_SECRET", default="")
# A webhook whose timestamp is further than this from now is refused (replay window).
WEBHOOK_TOLERANCE_SECONDS = env.int("WEBHOOK_TOLERANCE_SECONDS", default=300)
# Largest single deposit or withdrawal the API accepts.
WALLET_MAX_DEPOSIT = Decimal(env.str("WALLET_MAX_DEPOSIT", default="10000000.00"))
WALLET_MAX_WITHDRAWAL = Decimal(env.str("WALLET_MAX_WITHDRAWAL", default="10000000.00"))
WALLET_PROOF_MAX_BYTES = 5 * 1024 * 1024
# A withdrawal still unpaid after this long is sent again (same idempotency key).
WALLET_PAYOUT_RESUME_AFTER = timedelta(minutes=env.int("WALLET_PAYOUT_RESUME_MINUTES", default=10))

# --- Primary platform (invoices app) ------------------------------------------------------
# Uploads (core/uploads.py): an invoice's attachment (PDF, JPEG, PNG) and a bulk CSV.
INVOICE_FILE_MAX_BYTES = 5 * 1024 * 1024
INVOICE_BULK_MAX_BYTES = 1024 * 1024
# `local`: this app is the primary platform (nothing to import); `http`: pull financed
# invoices and repayments from an external primary platform (`manage.py import_primary`).
PRIMARY_PROVIDER = env.str("PRIMARY_PROVIDER", default="local")
PRIMARY_API_URL = env.str("PRIMARY_API_URL", default="")
PRIMARY_API_TOKEN = env.str("PRIMARY_API_TOKEN", default="")

# --- I18N, static, media ----------------------------------------------------------------
LANGUAGE_CODE = "en-in"
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Hashed, compressed static files (WhiteNoise's manifest storage) need `collectstatic` first
# (the image build and the Procfile's `release` run it); without DEBUG they are the default,
# with DEBUG files are served straight from the apps so `make run` needs no collectstatic.
STATIC_HASHED = env.bool("STATIC_HASHED", default=not DEBUG)
if STATIC_HASHED:
    # The collected files from the web process itself (hashed names, gzip, cached for ever),
    # so /static/ works under gunicorn and in the compose stack with no separate file server.
    # Without it (DEBUG), Django's static handlers serve from the apps (config/asgi.py, wsgi.py).
    MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                      "whitenoise.middleware.WhiteNoiseMiddleware")
# Media (uploads, report exports): local files under MEDIA_ROOT by default; `s3` stores them in
# an S3-compatible bucket through django-storages, private, and downloads become short-lived
# signed links (core/storage.py) instead of bytes streamed through the web process.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
MEDIA_LINK_SECONDS = env.int("MEDIA_LINK_SECONDS", default=300)
if MEDIA_STORAGE == "local":
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif MEDIA_STORAGE == "s3":
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
            "signature_version": "s3v4",
            "default_acl": None,  # the bucket's own policy: private
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": MEDIA_LINK_SECONDS,
        },
    }
else:
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be 'local' or 's3', not {MEDIA_STORAGE!r}.")
STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_HASHED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Reports (reports app) -------------------------------------------------------------
# An export with more rows than this runs as a Celery job the caller polls.
REPORT_EXPORT_SYNC_MAX_ROWS = env.int("REPORT_EXPORT_SYNC_MAX_ROWS", default=10_000)
# How long a finished export's signed download link works, and how long its file is kept.
REPORT_EXPORT_LINK_SECONDS = env.int("REPORT_EXPORT_LINK_SECONDS", default=3600)
REPORT_EXPORT_KEEP_HOURS = env.int("REPORT_EXPORT_KEEP_HOURS", default=24)

# --- Idempotency ------------------------------------------------------------------------
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)

# --- Security (docs/security.md) ----------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
# HTTPS only, with production defaults when DEBUG is off: plain HTTP is redirected (but the load
# balancer's health probes), and browsers remember it (HSTS). Behind a proxy that ends TLS,
# its X-Forwarded-Proto says the request was HTTPS (trusted only with NUM_PROXIES set).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if NUM_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# CORS for browser clients (django-cors-headers): only these origins, only the API.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type", "idempotency-key", "x-organization",
                      "x-request-id")
CORS_EXPOSE_HEADERS = ("retry-after", "x-request-id", "x-sandbox-providers")
# Optional: staff endpoints (the admin, /api/v1/admin/, /api/v1/verifier/) only from these
# networks (CIDRs, comma-separated); empty = from anywhere (core.middleware).
STAFF_ALLOWED_NETWORKS = env.list("STAFF_ALLOWED_NETWORKS", default=[])

# --- Logging: one JSON object a line, with the request id --------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "at",  # ISO 8601 in UTC with offset
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- Start-up refusals (last: they read everything above) -----------------------------------
from config.production import refuse_unsafe_settings  # noqa: E402

refuse_unsafe_settings(globals())
