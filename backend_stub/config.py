"""Settings read from the environment (one singleton, UPPER_CASE fields)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=True)

    # "production" refuses to start with anything meant for testers switched on
    # (validate_for_environment names what to change).
    ENVIRONMENT: Literal["development", "production"] = "development"
    # /docs and /openapi.json; off unless asked for (`./dev run` turns them on).
    API_DOCS: bool = False
    # Keys the HMACs of SMS codes, captchas and login guards. Empty: a random key made
    # once and kept in DATA_DIR/keys/ (shared by every process on this machine).
    SECRET_KEY: str = ""

    # Where the SQLite file and private media live when nothing else is configured.
    DATA_DIR: Path = PROJECT_ROOT / "data"
    # SQLAlchemy URL; empty means an SQLite file under DATA_DIR.
    DATABASE_URL: str = ""

    SESSION_TTL_SECONDS: int = 8 * 3600
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_LOCK_SECONDS: int = 15 * 60
    # Risk-based captcha: after this many failed logins of one account name, or this many
    # failures from one client address within LOGIN_LOCK_SECONDS, a login needs a captcha.
    LOGIN_CAPTCHA_AFTER: int = 2
    CLIENT_FAILURES_CAPTCHA: int = 10
    # Unauthenticated requests (login, registration, reset, SMS, captcha) per client
    # address per minute, and from everyone per minute: past them, 429. Generous per
    # address: mobile carriers put many phones behind one (carrier-grade NAT), and the
    # captcha, not a refusal, is what a busy address should mostly meet.
    PUBLIC_PER_CLIENT_PER_MINUTE: int = 300
    PUBLIC_GLOBAL_PER_MINUTE: int = 20_000

    SMS_CODE_TTL_SECONDS: int = 5 * 60
    SMS_MIN_INTERVAL_SECONDS: int = 60
    SMS_DAILY_LIMIT: int = 10
    SMS_MAX_GUESSES: int = 5
    # SMS pumping: codes one client address may request per hour (a captcha from the
    # (SMS_CAPTCHA_AFTER+1)-th), and codes sent per minute in all.
    SMS_CAPTCHA_AFTER: int = 2
    SMS_PER_CLIENT_HOURLY: int = 100
    SMS_GLOBAL_PER_MINUTE: int = 600
    # The sandbox exposes sent SMS codes to testers; never enable it in production.
    SMS_SANDBOX: bool = True

    # Verification runs as durable jobs (backend_stub.jobs) in this many worker processes,
    # which `python -m backend_stub` starts beside the API unless told not to (0: in
    # threads of the API process itself, for tests).
    VERIFY_WORKERS: int = 1
    # The queue's store: empty means an SQLite file under DATA_DIR; redis://host:port/db
    # for more than one machine.
    QUEUE_URL: str = ""
    # Jobs queued or running in all (past it: 503 and a time to retry), and per candidate
    # (past it: 429), so one candidate cannot take the workers from everyone else.
    JOB_QUEUE_MAX: int = 2000
    JOBS_PER_CANDIDATE: int = 2
    # A running job's worker renews its lease every third of this; a lease that passes
    # means the worker died, and the job runs again, at most JOB_MAX_ATTEMPTS times.
    JOB_LEASE_SECONDS: int = 30
    JOB_MAX_ATTEMPTS: int = 3
    # A queued job no worker has taken for this long is handed to the queue again (its
    # message may have been lost with a process or a queue server).
    JOB_REQUEUE_SECONDS: int = 120
    # How often the API looks for such jobs.
    JOB_SWEEP_SECONDS: int = 10
    MAX_IMAGE_BYTES: int = 10 * 1024 * 1024
    # Face matching: below the threshold is a match; within the band a person decides.
    FACE_MATCH_THRESHOLD: float = 0.6
    FACE_REVIEW_BAND: float = 0.06
    PHOTO_PROFILE: str = "hubei"

    # Live check: digits per challenge, how long they are valid, failures before the
    # candidate must confirm on site, the video size limit, and the speech recogniser's
    # model directory (faster-whisper format with a SHA256SUMS file; unset: a person
    # checks the digits of every clip that passes the automatic checks).
    LIVE_DIGITS: int = 4
    LIVE_CHALLENGE_TTL_SECONDS: int = 5 * 60
    LIVE_MAX_FAILURES: int = 3
    LIVE_MAX_VIDEO_BYTES: int = 20 * 1024 * 1024
    # Unusable files sent for one set of digits before they are spent, and digits a
    # candidate may ask for in an hour.
    LIVE_MAX_BAD_UPLOADS: int = 3
    LIVE_CHALLENGES_PER_HOUR: int = 12
    ASR_MODEL_DIR: str | None = None

    # Orders and payment. Fees in fen. The sandbox provider (a cashier page and signed
    # notifications inside this service) is the only one built in.
    PAYMENT_PROVIDER: str = "sandbox"
    PAYEE: str = "新疆维吾尔自治区教育考试院"
    # Printed on the 准考证 as its issuer, whose key signs the code checked at the door.
    ISSUING_OFFICE: str = "新疆维吾尔自治区教育考试院"
    CARD_FEE_FEN: int = 2000
    ORDER_TTL_SECONDS: int = 24 * 3600
    ORDER_SWEEP_SECONDS: int = 60
    PAYMENT_CODE_TTL_SECONDS: int = 3 * 60
    PAYMENT_NOTIFY_MAX_AGE_SECONDS: int = 5 * 60
    DOCUMENT_LINK_TTL_SECONDS: int = 60
    # Special-major proof documents (PDF or JPEG).
    MATERIAL_MAX_BYTES: int = 5 * 1024 * 1024
    MATERIAL_MAX_COUNT: int = 10
    # Private media one candidate may store in all (ID photos, videos, photos, materials).
    MEDIA_QUOTA_BYTES: int = 200 * 1024 * 1024
    # A payment notification's body; rejected notices recorded per minute (the rest are
    # only counted, so junk cannot fill the table).
    NOTIFY_MAX_BYTES: int = 64 * 1024
    NOTIFY_REJECTED_RECORDED_PER_MINUTE: int = 20
    # The address phones reach this service at (QR codes and download links carry it);
    # empty: the address the request came in on.
    PUBLIC_URL: str = ""
    # Where a same-phone payment page sends the candidate back to (the app's address,
    # or its deep link on a phone); empty: the candidate switches back by hand.
    APP_RETURN_URL: str = ""

    @property
    def media_dir(self) -> Path:
        """Private uploads (ID photos, videos): never under a public path."""
        return self.DATA_DIR / "media"

    @property
    def database_url(self) -> str:
        if self.DATABASE_URL:
            url = self.DATABASE_URL
            # Plain postgresql:// URLs mean psycopg 3, the driver we install.
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{self.DATA_DIR / 'zikao.db'}"


class ConfigError(Exception):
    """Settings that must not run together; the message says what to change."""


def validate_for_environment(settings: Settings) -> None:
    """Production refuses to start with the testers' conveniences switched on."""
    if settings.ENVIRONMENT != "production":
        return
    problems = []
    if settings.SMS_SANDBOX:
        problems.append("SMS_SANDBOX=true exposes sent SMS codes: set SMS_SANDBOX=false")
    if settings.PAYMENT_PROVIDER == "sandbox":
        problems.append(
            "PAYMENT_PROVIDER=sandbox marks orders paid without money: configure a real "
            "provider (none is built in yet)"
        )
    if settings.API_DOCS:
        problems.append("API_DOCS=true publishes the API schema: set API_DOCS=false")
    if not settings.SECRET_KEY:
        problems.append("SECRET_KEY is empty: set a long random value shared by all API hosts")
    if problems:
        raise ConfigError("ENVIRONMENT=production cannot start: " + "; ".join(problems))


@cache
def get_settings() -> Settings:
    return Settings()
