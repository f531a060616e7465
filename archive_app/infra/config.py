"""Settings: one typed, validated object built from ``ARCHIVE_*`` environment variables.

Only the app factory and the CLI call :meth:`Settings.from_env`; every other part of the
program receives a ``Settings`` (or the single values it needs). Validation happens once,
at start, and a bad value raises :class:`SettingsError` whose message is one line naming
the variable and what is wrong with it.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from limits import RateLimitItem, parse

from archive_app.errors import SettingsError
from indexing.extract.engines import ENGINE_CHOICES as OCR_ENGINES

CONFIDENTIALITY_LEVELS = ("public", "internal", "confidential", "secret")
SUPPORTED_LANGUAGES = ("zh_CN", "en")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    """Everything the application can be configured with, already validated."""

    home: Path
    database_url: str
    secret_key: str | None = None
    archive_number_pattern: str = "KH-{seq:06d}"
    master_key: str | None = None
    master_key_file: Path | None = None
    broker_url: str | None = None
    queue_name: str = "archive"
    search_url: str | None = None
    # Search counts are exact up to this many matches, "more than" it beyond.
    search_total_cap: int = 10_000
    secure_cookies: bool = False
    default_language: str = "zh_CN"
    session_hours: int = 12
    ocr_languages: str = "chi_sim+eng"
    ocr_engine: str = "auto"
    ocr_workers: int = 2
    # Names of the company that runs the archive (its own invoices and contracts name it): the
    # other party of a document is its counterparty.
    own_company_names: tuple[str, ...] = ()
    max_upload_bytes: int = 200 * 1024 * 1024
    max_pages: int = 2000
    retention_approvals: int = 2
    # The second copy of the destruction ledger, outside the instance folder.
    ledger_dir: Path | None = None
    # How often the worker runs the periodic inspection (see parse_inspection_schedule).
    inspection_schedule: str = "daily"
    # Checklist lines waiting in the review queue longer than this many days are reminded.
    reminder_review_days: int = 3
    # Optional: reminders are also e-mailed through this server (see parse_smtp_url).
    smtp_url: str | None = None
    smtp_from: str | None = None
    # The watched intake folder (``archive consume``; run beside ``archive serve``'s worker
    # when set), the user its filings are made as, and how long a file's size and time must
    # stay unchanged before it counts as complete.
    consume_dir: Path | None = None
    consume_user: str | None = None
    consume_settle_seconds: float = 5.0
    consume_rescan_seconds: float = 30.0
    # Failed logins allowed per account and per remote address ("N per PERIOD"); an account
    # that reaches its limit is locked for the period. Counted in Redis when the instance
    # has Redis (its broker), so every web process shares the counts.
    login_account_limit: str = "5 per 15 minutes"
    login_address_limit: str = "30 per 15 minutes"
    # API calls allowed per token user and per remote address (same notation and storage);
    # a call beyond either answers 429 with Retry-After.
    api_user_limit: str = "1200 per minute"
    api_address_limit: str = "2400 per minute"
    ratelimit_storage_url: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("ARCHIVE_HOME") or "instance").expanduser().absolute()
        database_url = env.get("ARCHIVE_DATABASE_URL") or f"sqlite:///{home / 'archive.db'}"
        master_key_file = env.get("ARCHIVE_MASTER_KEY_FILE")
        ledger_dir = env.get("ARCHIVE_LEDGER_DIR")
        consume_dir = env.get("ARCHIVE_CONSUME_DIR")
        settings = cls(
            home=home,
            database_url=database_url,
            secret_key=env.get("ARCHIVE_SECRET_KEY") or None,
            archive_number_pattern=env.get("ARCHIVE_NUMBER_PATTERN") or cls.archive_number_pattern,
            master_key=env.get("ARCHIVE_MASTER_KEY") or None,
            master_key_file=Path(master_key_file).expanduser().absolute()
            if master_key_file
            else None,
            broker_url=env.get("ARCHIVE_BROKER_URL") or None,
            queue_name=env.get("ARCHIVE_QUEUE") or cls.queue_name,
            search_url=env.get("ARCHIVE_SEARCH_URL") or None,
            search_total_cap=_parse_int(env, "ARCHIVE_SEARCH_TOTAL_CAP", cls.search_total_cap),
            secure_cookies=_parse_bool(env, "ARCHIVE_SECURE_COOKIES", False),
            default_language=env.get("ARCHIVE_LANGUAGE") or cls.default_language,
            session_hours=_parse_int(env, "ARCHIVE_SESSION_HOURS", cls.session_hours),
            ocr_languages=env.get("ARCHIVE_OCR_LANGUAGES") or cls.ocr_languages,
            ocr_engine=(env.get("ARCHIVE_OCR_ENGINE") or cls.ocr_engine).strip().lower(),
            own_company_names=_parse_names(env.get("ARCHIVE_OWN_COMPANY_NAMES")),
            ocr_workers=_parse_int(env, "ARCHIVE_OCR_WORKERS", cls.ocr_workers),
            max_upload_bytes=_parse_int(env, "ARCHIVE_MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            max_pages=_parse_int(env, "ARCHIVE_MAX_PAGES", cls.max_pages),
            retention_approvals=_parse_int(
                env, "ARCHIVE_RETENTION_APPROVALS", cls.retention_approvals
            ),
            ledger_dir=Path(ledger_dir).expanduser().absolute() if ledger_dir else None,
            inspection_schedule=(env.get("ARCHIVE_INSPECTION_SCHEDULE") or cls.inspection_schedule)
            .strip()
            .lower(),
            reminder_review_days=_parse_int(
                env, "ARCHIVE_REMINDER_REVIEW_DAYS", cls.reminder_review_days
            ),
            smtp_url=(env.get("ARCHIVE_SMTP_URL") or "").strip() or None,
            smtp_from=(env.get("ARCHIVE_SMTP_FROM") or "").strip() or None,
            consume_dir=Path(consume_dir).expanduser().absolute() if consume_dir else None,
            consume_user=(env.get("ARCHIVE_CONSUME_USER") or "").strip() or None,
            consume_settle_seconds=_parse_float(
                env, "ARCHIVE_CONSUME_SETTLE_SECONDS", cls.consume_settle_seconds
            ),
            consume_rescan_seconds=_parse_float(
                env, "ARCHIVE_CONSUME_RESCAN_SECONDS", cls.consume_rescan_seconds
            ),
            login_account_limit=(
                env.get("ARCHIVE_LOGIN_ACCOUNT_LIMIT") or cls.login_account_limit
            ).strip(),
            login_address_limit=(
                env.get("ARCHIVE_LOGIN_ADDRESS_LIMIT") or cls.login_address_limit
            ).strip(),
            api_user_limit=(env.get("ARCHIVE_API_USER_LIMIT") or cls.api_user_limit).strip(),
            api_address_limit=(
                env.get("ARCHIVE_API_ADDRESS_LIMIT") or cls.api_address_limit
            ).strip(),
            ratelimit_storage_url=(env.get("ARCHIVE_RATELIMIT_STORAGE_URL") or "").strip() or None,
        )
        settings.validate()
        return settings

    def with_overrides(self, **changes: object) -> Settings:
        updated = replace(self, **changes)
        updated.validate()
        return updated

    def validate(self) -> None:
        if not self.database_url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise SettingsError(
                "ARCHIVE_DATABASE_URL",
                f"unsupported database {self.database_url.split(':', 1)[0]!r}; "
                "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
            )
        validate_number_pattern(self.archive_number_pattern)
        if self.default_language not in SUPPORTED_LANGUAGES:
            raise SettingsError(
                "ARCHIVE_LANGUAGE",
                f"{self.default_language!r} is not one of {', '.join(SUPPORTED_LANGUAGES)}",
            )
        if self.secret_key is not None and len(self.secret_key) < 16:
            raise SettingsError("ARCHIVE_SECRET_KEY", "must be at least 16 characters long")
        if not 1 <= self.session_hours <= 24 * 30:
            raise SettingsError("ARCHIVE_SESSION_HOURS", "must be between 1 and 720")
        if not re.fullmatch(r"[a-z_]+(\+[a-z_]+)*", self.ocr_languages):
            raise SettingsError(
                "ARCHIVE_OCR_LANGUAGES", "use Tesseract codes joined by '+', e.g. chi_sim+eng"
            )
        if self.ocr_engine not in OCR_ENGINES:
            raise SettingsError(
                "ARCHIVE_OCR_ENGINE",
                f"{self.ocr_engine!r} is not one of {', '.join(OCR_ENGINES)}",
            )
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", self.queue_name):
            raise SettingsError("ARCHIVE_QUEUE", "use letters, digits, '.', '_' or '-'")
        if not 1 <= self.ocr_workers <= 64:
            raise SettingsError("ARCHIVE_OCR_WORKERS", "must be between 1 and 64")
        if self.max_upload_bytes < 1024:
            raise SettingsError("ARCHIVE_MAX_UPLOAD_BYTES", "must be at least 1024")
        if self.max_pages < 1:
            raise SettingsError("ARCHIVE_MAX_PAGES", "must be at least 1")
        if not 1 <= self.retention_approvals <= 20:
            raise SettingsError("ARCHIVE_RETENTION_APPROVALS", "must be between 1 and 20")
        if self.broker_url and not self.broker_url.startswith(("redis://", "rediss://", "amqp://")):
            raise SettingsError("ARCHIVE_BROKER_URL", "must be a redis:// or amqp:// URL")
        if self.search_url is not None:
            validate_search_url(self.search_url)
        if not 1 <= self.search_total_cap <= 1_000_000:
            raise SettingsError("ARCHIVE_SEARCH_TOTAL_CAP", "must be between 1 and 1000000")
        if self.ledger_dir is not None:
            validate_ledger_dir(self.ledger_dir, self.home)
        parse_inspection_schedule(self.inspection_schedule)
        if not 1 <= self.reminder_review_days <= 365:
            raise SettingsError("ARCHIVE_REMINDER_REVIEW_DAYS", "must be between 1 and 365")
        if self.smtp_url is not None:
            parse_smtp_url(self.smtp_url)
            if not self.smtp_from or not _ADDRESS.fullmatch(self.smtp_from):
                raise SettingsError(
                    "ARCHIVE_SMTP_FROM",
                    "set the sender address of the reminders, e.g. archive@example.com",
                )
        if self.consume_dir is not None and not self.consume_user:
            raise SettingsError(
                "ARCHIVE_CONSUME_USER",
                "name the user (an archivist or admin) that files what arrives in "
                "ARCHIVE_CONSUME_DIR",
            )
        parse_rate("ARCHIVE_LOGIN_ACCOUNT_LIMIT", self.login_account_limit)
        parse_rate("ARCHIVE_LOGIN_ADDRESS_LIMIT", self.login_address_limit)
        parse_rate("ARCHIVE_API_USER_LIMIT", self.api_user_limit)
        parse_rate("ARCHIVE_API_ADDRESS_LIMIT", self.api_address_limit)
        if self.ratelimit_storage_url is not None and not self.ratelimit_storage_url.startswith(
            ("memory://", "redis://", "rediss://")
        ):
            raise SettingsError(
                "ARCHIVE_RATELIMIT_STORAGE_URL", "must be memory:// or a redis:// URL"
            )
        if not 0.1 <= self.consume_settle_seconds <= 3600:
            raise SettingsError("ARCHIVE_CONSUME_SETTLE_SECONDS", "must be between 0.1 and 3600")
        if not 0.5 <= self.consume_rescan_seconds <= 3600:
            raise SettingsError("ARCHIVE_CONSUME_RESCAN_SECONDS", "must be between 0.5 and 3600")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.home / "keys" / "master.key"

    @property
    def resolved_ratelimit_storage_url(self) -> str:
        """Where throttling counts live: ``ARCHIVE_RATELIMIT_STORAGE_URL``, else the Redis
        broker when there is one (shared by every process), else this process's memory."""
        if self.ratelimit_storage_url:
            return self.ratelimit_storage_url
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return "memory://"

    @property
    def inspection_interval_seconds(self) -> int | None:
        """Seconds between scheduled inspections, or None when they are off."""
        return parse_inspection_schedule(self.inspection_schedule)

    @property
    def resolved_search_url(self) -> str:
        """``ARCHIVE_SEARCH_URL``; else the backend recorded in the instance (``archive init``
        records Tantivy in ``index/`` for a new instance, ``archive reindex --to`` records the
        one it switched to); else the Whoosh index in ``index/`` that instances made before
        the record existed use."""
        if self.search_url:
            return self.search_url
        try:
            recorded = self.search_record_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            recorded = ""
        return recorded or f"whoosh://{self.home / 'index'}"

    @property
    def search_record_path(self) -> Path:
        """The file in the instance that names its search backend (one URL)."""
        return self.home / "search-backend"


def validate_number_pattern(pattern: str) -> None:
    """An archive number pattern must contain exactly one ``{seq}`` field, optionally
    with a zero-padded width (``{seq:06d}``), and only characters safe on a folder cover."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]
    except ValueError as exc:
        raise SettingsError("ARCHIVE_NUMBER_PATTERN", f"not a valid pattern: {exc}") from None
    if fields != ["seq"]:
        raise SettingsError(
            "ARCHIVE_NUMBER_PATTERN", "must contain exactly one {seq} field, e.g. KH-{seq:06d}"
        )
    try:
        sample = pattern.format(seq=1)
    except (ValueError, TypeError) as exc:
        raise SettingsError("ARCHIVE_NUMBER_PATTERN", f"cannot format a number: {exc}") from None
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", sample):
        raise SettingsError(
            "ARCHIVE_NUMBER_PATTERN",
            "may only use letters, digits, '.', '_', '/', '-' and must start with a letter or digit",
        )


def parse_rate(variable: str, value: str) -> RateLimitItem:
    """A limit such as ``5 per 15 minutes`` or ``3/2seconds`` (the ``limits`` notation)."""
    try:
        item = parse(value)
    except ValueError:
        item = None
    if item is None or item.amount < 1:
        raise SettingsError(variable, f"{value!r} is not understood; write e.g. '5 per 15 minutes'")
    return item


_SCHEDULE_WORDS = {"daily": 24 * 60 * 60, "hourly": 60 * 60, "off": None}
_SCHEDULE_UNITS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}
_SCHEDULE_HINT = "use daily, hourly, off, or a number with a unit s, m, h or d (e.g. 6h)"


def parse_inspection_schedule(value: str) -> int | None:
    """``ARCHIVE_INSPECTION_SCHEDULE``: ``daily`` (the default), ``hourly``, ``off``, or a
    whole number with a unit (``30m``, ``6h``, ``2d``; ``s`` for seconds, which tests use).
    Returns the interval in seconds, None for ``off``."""
    text = value.strip().lower()
    if text in _SCHEDULE_WORDS:
        return _SCHEDULE_WORDS[text]
    match = re.fullmatch(r"(\d{1,6})\s*([smhd])", text)
    if match is None:
        raise SettingsError(
            "ARCHIVE_INSPECTION_SCHEDULE", f"{value!r} is not understood; {_SCHEDULE_HINT}"
        )
    seconds = int(match.group(1)) * _SCHEDULE_UNITS[match.group(2)]
    if not 1 <= seconds <= 366 * 24 * 60 * 60:
        raise SettingsError(
            "ARCHIVE_INSPECTION_SCHEDULE", f"{value!r} must be between 1 second and 366 days"
        )
    return seconds


_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+")


@dataclass(frozen=True)
class SmtpTarget:
    """Where reminders are mailed: ``ARCHIVE_SMTP_URL`` taken apart."""

    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte
    starttls: bool  # smtp with ?starttls=yes
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpTarget:
    """``ARCHIVE_SMTP_URL``: ``smtp://HOST[:PORT]`` (port 25; ``?starttls=yes`` upgrades the
    connection), ``smtps://HOST[:PORT]`` (port 465), with ``USER:PASSWORD@`` before the host
    where the server asks for a login."""
    from urllib.parse import unquote, urlsplit

    hint = "use smtp://HOST:PORT or smtps://HOST:PORT"
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise SettingsError("ARCHIVE_SMTP_URL", f"unsupported scheme {parts.scheme!r}; {hint}")
    try:
        port = parts.port
    except ValueError:
        raise SettingsError(
            "ARCHIVE_SMTP_URL", f"the port is not a number 1-65535; {hint}"
        ) from None
    if not parts.hostname:
        raise SettingsError("ARCHIVE_SMTP_URL", f"name the mail server; {hint}")
    if parts.path not in ("", "/"):
        raise SettingsError("ARCHIVE_SMTP_URL", f"a mail server URL has no path; {hint}")
    options = dict(_url_query(url))
    starttls = options.pop("starttls", "no").strip().lower()
    if options or starttls not in _TRUE | _FALSE:
        raise SettingsError("ARCHIVE_SMTP_URL", "the only option is ?starttls=yes|no")
    tls = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        tls=tls,
        starttls=starttls in _TRUE,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def validate_ledger_dir(folder: Path, home: Path) -> None:
    """The ledger's second copy must survive the loss (or the restore from an old backup)
    of the instance folder, so it may not lie inside it. Whether it can be written is
    checked before each destruction, which refuses to shred anything when it cannot."""
    if not folder.is_absolute():
        raise SettingsError("ARCHIVE_LEDGER_DIR", f"{folder} is not an absolute path")
    resolved, instance = folder.resolve(), home.resolve()
    if resolved == instance or instance in resolved.parents:
        raise SettingsError(
            "ARCHIVE_LEDGER_DIR",
            f"{folder} is inside the instance folder {home}; name a folder elsewhere "
            "(another disk, or where the certificates are kept)",
        )
    if resolved.exists() and not resolved.is_dir():
        raise SettingsError("ARCHIVE_LEDGER_DIR", f"{folder} exists and is not a folder")


_SEARCH_TABLE = re.compile(r"[a-z_][a-z0-9_]{0,50}")
# Search backends that keep their index in a local folder, by URL scheme.
_EMBEDDED_SEARCH = {"whoosh": "Whoosh", "tantivy": "Tantivy"}


def validate_search_url(url: str) -> None:
    """``whoosh:///ABSOLUTE/DIR``, ``tantivy:///ABSOLUTE/DIR`` or
    ``postgresql[+psycopg]://...[?table=NAME]``."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in _EMBEDDED_SEARCH:
        prefix = f"{scheme}://"
        path = url[len(prefix) :] if url.lower().startswith(prefix) else ""
        if not path.startswith("/"):
            raise SettingsError(
                "ARCHIVE_SEARCH_URL",
                f"a {_EMBEDDED_SEARCH[scheme]} index needs an absolute folder: {scheme}:///PATH",
            )
        return
    if scheme in ("postgresql", "postgresql+psycopg", "postgres"):
        if "://" not in url or url.split("://", 1)[1] in ("", "/"):
            raise SettingsError("ARCHIVE_SEARCH_URL", "name the database: postgresql://HOST/DB")
        for name, value in _url_query(url):
            if name == "table" and not _SEARCH_TABLE.fullmatch(value):
                raise SettingsError(
                    "ARCHIVE_SEARCH_URL",
                    "table= must be a lower-case name of letters, digits and '_'",
                )
        return
    raise SettingsError(
        "ARCHIVE_SEARCH_URL",
        f"unsupported search backend {scheme!r}; use whoosh:///PATH, tantivy:///PATH or"
        " postgresql://HOST/DB",
    )


def _url_query(url: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def _parse_names(raw: str | None) -> tuple[str, ...]:
    """``ARCHIVE_OWN_COMPANY_NAMES``: names separated by ``;`` (names may hold commas)."""
    return tuple(name.strip() for name in (raw or "").split(";") if name.strip())


def _parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(name, f"{raw!r} is not a yes/no value (use 1 or 0)")


def _parse_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(name, f"{raw!r} is not a number") from None


def _parse_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(name, f"{raw!r} is not a whole number") from None
