"""One frozen ``Settings`` object, read from the environment once and passed explicitly.

A wrong or missing value fails at start with a :class:`SettingsError` that names the variable.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ("ROOT", "Settings", "SettingsError")

ROOT = Path(__file__).resolve().parents[3]
"""The repository root (platform/src/nuanxin/settings.py -> ../../..)."""

ENVIRONMENTS = ("development", "test", "production")
GEOCODERS = ("offline", "baidu", "nominatim")
SMS_PROVIDERS = ("none", "aliyun", "tencent")
SMTP_SECURITY = ("none", "starttls", "tls")


class SettingsError(ValueError):
    """A setting is missing or wrong; ``variable`` names the environment variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the platform reads from its environment."""

    env: str = "development"
    database_url: str
    secret_key: str
    var_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = False
    verification_months: int = 12
    emergency_paperwork_days: int = 7
    geocoder: str = "offline"
    baidu_ak: str = ""
    nominatim_user_agent: str = "nuanxin"
    geocoder_min_delay_seconds: float = 1.0
    map_tile_url: str = ""
    timezone: str = "Asia/Shanghai"
    hotline: str = "12345"
    first_cold_spell: tuple[int, int] = (11, 15)  # month, day: the default first cold spell
    route_detour_factor: float = 1.3
    route_time_limit_seconds: float = 1.0
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    currency: str = "cny"
    payment_methods: tuple[str, ...] = field(default=("card",))
    redis_url: str = ""
    redis_namespace: str = "nuanxin"
    embedded_worker: bool = True
    database_pool_size: int = 10
    database_statement_cache_size: int = 100
    # notifications (nuanxin.notifications): an SMS provider and an SMTP server
    sms_provider: str = "none"
    sms_access_key_id: str = ""
    sms_access_key_secret: str = ""
    sms_sign_name: str = ""
    sms_app_id: str = ""  # Tencent's SmsSdkAppId
    sms_region: str = ""
    sms_endpoint: str = ""  # host[:port] instead of the provider's own (a mirror, a test fake)
    sms_protocol: str = "https"
    sms_templates: tuple[tuple[str, str], ...] = ()  # ("visit_code.zh", "SMS_123"), ...
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = "starttls"
    mail_from: str = ""
    public_url: str = ""  # where the platform is reached, for links in emails (opt-out)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file of a ``sqlite:///path`` URL."""
        if self.is_postgres:
            raise SettingsError("DATABASE_URL", "is a PostgreSQL URL, not a SQLite file")
        return Path(self.database_url.removeprefix("sqlite:///"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable; raise :class:`SettingsError` naming the bad one."""
        env_vars = os.environ if environ is None else environ
        env = env_vars.get("NUANXIN_ENV", "development")
        if env not in ENVIRONMENTS:
            raise SettingsError("NUANXIN_ENV", f"must be one of {', '.join(ENVIRONMENTS)}")
        var_dir = Path(env_vars.get("NUANXIN_VAR_DIR", str(ROOT / "var"))).resolve()
        database_url = _database_url(env_vars.get("DATABASE_URL"), var_dir)
        return cls(
            env=env,
            database_url=database_url,
            secret_key=_secret_key(env_vars.get("SECRET_KEY"), env=env, var_dir=var_dir),
            var_dir=var_dir,
            host=env_vars.get("NUANXIN_HOST", "127.0.0.1"),
            port=_int(env_vars, "NUANXIN_PORT", 8000, low=1, high=65535),
            debug=_bool(env_vars, "NUANXIN_DEBUG", default=False),
            verification_months=_int(env_vars, "VERIFICATION_MONTHS", 12, low=1, high=60),
            emergency_paperwork_days=_int(env_vars, "EMERGENCY_PAPERWORK_DAYS", 7, low=1, high=90),
            geocoder=_choice(env_vars, "GEOCODER", GEOCODERS, "offline"),
            baidu_ak=env_vars.get("BAIDU_AK", ""),
            nominatim_user_agent=env_vars.get("NOMINATIM_USER_AGENT", "nuanxin"),
            geocoder_min_delay_seconds=_float(env_vars, "GEOCODER_MIN_DELAY_SECONDS", 1.0),
            map_tile_url=env_vars.get("MAP_TILE_URL", ""),
            timezone=_timezone(env_vars.get("TIMEZONE") or "Asia/Shanghai"),
            hotline=_hotline(env_vars.get("HOTLINE", "12345")),
            first_cold_spell=_month_day(env_vars.get("FIRST_COLD_SPELL") or "11-15"),
            route_detour_factor=_within(env_vars, "ROUTE_DETOUR_FACTOR", 1.3, low=1.0, high=3.0),
            route_time_limit_seconds=_within(
                env_vars, "ROUTE_TIME_LIMIT_SECONDS", 1.0, low=0.1, high=30.0
            ),
            stripe_secret_key=env_vars.get("STRIPE_SECRET_KEY", ""),
            stripe_publishable_key=env_vars.get("STRIPE_PUBLISHABLE_KEY", ""),
            stripe_webhook_secret=env_vars.get("STRIPE_WEBHOOK_SECRET", ""),
            stripe_api_base=env_vars.get("STRIPE_API_BASE", ""),
            currency=_currency(env_vars.get("CURRENCY", "cny")),
            payment_methods=_list(env_vars, "PAYMENT_METHODS", ("card",)),
            redis_url=_redis_url(env_vars.get("REDIS_URL", "")),
            redis_namespace=_name(env_vars, "REDIS_NAMESPACE", "nuanxin"),
            # SQLite: the app runs its jobs itself; PostgreSQL: `python -m nuanxin worker` does
            embedded_worker=_bool(
                env_vars, "EMBEDDED_WORKER", default=not database_url.startswith("postgres")
            ),
            database_pool_size=_int(env_vars, "DATABASE_POOL_SIZE", 10, low=1, high=1000),
            # 0 behind PgBouncer in transaction pooling (before 1.21: no prepared statements)
            database_statement_cache_size=_int(
                env_vars, "DATABASE_STATEMENT_CACHE_SIZE", 100, low=0, high=10_000
            ),
            sms_provider=_choice(env_vars, "SMS_PROVIDER", SMS_PROVIDERS, "none"),
            sms_access_key_id=env_vars.get("SMS_ACCESS_KEY_ID", ""),
            sms_access_key_secret=env_vars.get("SMS_ACCESS_KEY_SECRET", ""),
            sms_sign_name=env_vars.get("SMS_SIGN_NAME", ""),
            sms_app_id=env_vars.get("SMS_APP_ID", ""),
            sms_region=env_vars.get("SMS_REGION", ""),
            sms_endpoint=env_vars.get("SMS_ENDPOINT", "").strip(),
            sms_protocol=_choice(env_vars, "SMS_PROTOCOL", ("https", "http"), "https"),
            sms_templates=_templates(env_vars.get("SMS_TEMPLATES", "")),
            smtp_host=env_vars.get("SMTP_HOST", "").strip(),
            smtp_port=_int(env_vars, "SMTP_PORT", 587, low=1, high=65535),
            smtp_username=env_vars.get("SMTP_USERNAME", ""),
            smtp_password=env_vars.get("SMTP_PASSWORD", ""),
            smtp_security=_choice(env_vars, "SMTP_SECURITY", SMTP_SECURITY, "starttls"),
            mail_from=env_vars.get("MAIL_FROM", "").strip(),
            public_url=_public_url(env_vars.get("PUBLIC_URL", "")),
        )._checked()

    def _checked(self) -> Settings:
        if self.geocoder == "baidu" and not self.baidu_ak:
            raise SettingsError("BAIDU_AK", "is required when GEOCODER=baidu")
        if self.is_production and not self.stripe_webhook_secret and self.stripe_secret_key:
            raise SettingsError(
                "STRIPE_WEBHOOK_SECRET", "is required in production when Stripe is configured"
            )
        if self.sms_provider != "none":
            for variable, value in (
                ("SMS_ACCESS_KEY_ID", self.sms_access_key_id),
                ("SMS_ACCESS_KEY_SECRET", self.sms_access_key_secret),
                ("SMS_SIGN_NAME", self.sms_sign_name),
            ):
                if not value:
                    raise SettingsError(
                        variable, f"is required when SMS_PROVIDER={self.sms_provider}"
                    )
            if self.sms_provider == "tencent" and not self.sms_app_id:
                raise SettingsError("SMS_APP_ID", "is required when SMS_PROVIDER=tencent")
        if self.smtp_host and "@" not in self.mail_from:
            raise SettingsError("MAIL_FROM", "an address is required when SMTP_HOST is set")
        return self


def _database_url(value: str | None, var_dir: Path) -> str:
    if value is None or value == "":
        return f"sqlite:///{var_dir / 'nuanxin.sqlite3'}"
    parts = urlsplit(value)
    if parts.scheme in ("postgresql", "postgres"):
        if not parts.hostname and not parts.path.strip("/"):
            raise SettingsError("DATABASE_URL", "a PostgreSQL URL needs a host or a database name")
        return value
    if (
        parts.scheme == "sqlite"
        and value.startswith("sqlite:///")
        and len(value) > len("sqlite:///")
    ):
        return value
    raise SettingsError(
        "DATABASE_URL",
        f"unsupported URL {value!r}: use sqlite:///path/to/file or postgresql://user@host/db",
    )


REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_url(value: str) -> str:
    if value == "":
        return ""
    parts = urlsplit(value)
    if parts.scheme not in REDIS_SCHEMES or not (parts.hostname or parts.path):
        raise SettingsError(
            "REDIS_URL",  # the value is not repeated: it may hold a password
            "unsupported URL: use redis://host:6379/0, rediss://host/0 or unix:///path",
        )
    return value


NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _name(env: Mapping[str, str], variable: str, default: str) -> str:
    value = env.get(variable) or default
    if not NAME.match(value):
        raise SettingsError(variable, f"letters, digits, '_', '.' or '-' only, got {value!r}")
    return value


TEMPLATE_KEY = re.compile(r"^[a-z_]{1,32}\.(zh|en)$")


def _templates(value: str) -> tuple[tuple[str, str], ...]:
    """``SMS_TEMPLATES``: ``kind.lang=ID`` pairs separated by commas (``visit_code.zh=SMS_1``)."""
    pairs: list[tuple[str, str]] = []
    for part in (item.strip() for item in value.split(",")):
        if not part:
            continue
        key, _, template_id = part.partition("=")
        if not TEMPLATE_KEY.match(key.strip()) or not template_id.strip():
            raise SettingsError(
                "SMS_TEMPLATES",
                f"write kind.zh=ID or kind.en=ID, separated by commas; got {part!r}",
            )
        pairs.append((key.strip(), template_id.strip()))
    return tuple(pairs)


def _public_url(value: str) -> str:
    url = value.strip().rstrip("/")
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname):
        raise SettingsError("PUBLIC_URL", f"must be an http(s) address, got {value!r}")
    return url


def _hotline(value: str) -> str:
    """The number printed on every slip and given to a courier facing a locked visit."""
    number = value.strip()
    if not number or len(number) > 20 or not all(ch.isdigit() or ch in "-+ " for ch in number):
        raise SettingsError("HOTLINE", "must be a telephone number (digits, '-', '+', spaces)")
    return number


def _month_day(value: str) -> tuple[int, int]:
    """``MM-DD``: the first cold spell of every winter where staff set none for the county."""
    try:
        moment = date.fromisoformat(f"2000-{value.strip()}")  # a leap year: 02-29 is a day
    except ValueError:
        raise SettingsError("FIRST_COLD_SPELL", f"must be a day as MM-DD, got {value!r}") from None
    return moment.month, moment.day


def _secret_key(value: str | None, *, env: str, var_dir: Path) -> str:
    if value:
        if len(value) < 32:
            raise SettingsError("SECRET_KEY", "must be at least 32 characters long")
        return value
    if env == "production":
        raise SettingsError("SECRET_KEY", "is required when NUANXIN_ENV=production")
    # Development and demo: generate once and keep it under var/.
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(name, f"must be between {low} and {high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(name, f"must be a number, got {raw!r}") from None
    if not 0 <= value < 3600:
        raise SettingsError(name, f"must be between 0 and 3600, got {raw}")
    return value


def _within(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    value = _float(env, name, default)
    if not low <= value <= high:
        raise SettingsError(name, f"must be between {low:g} and {high:g}, got {value:g}")
    return value


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(name, f"must be true or false, got {raw!r}")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(name) or default
    if value not in choices:
        raise SettingsError(name, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError("TIMEZONE", f"must be an IANA time zone, got {value!r}") from None
    return value.strip()


def _currency(value: str) -> str:
    lowered = value.strip().lower()
    if len(lowered) != 3 or not lowered.isalpha():
        raise SettingsError("CURRENCY", f"must be a three-letter ISO code, got {value!r}")
    return lowered


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    if not items:
        raise SettingsError(name, "must list at least one value, separated by commas")
    return items
