"""Settings read from the environment (one singleton, UPPER_CASE fields)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=True)

    # Where the SQLite file and private media live when nothing else is configured.
    DATA_DIR: Path = PROJECT_ROOT / "data"
    # SQLAlchemy URL; empty means an SQLite file under DATA_DIR.
    DATABASE_URL: str = ""

    SESSION_TTL_SECONDS: int = 8 * 3600
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_LOCK_SECONDS: int = 15 * 60

    SMS_CODE_TTL_SECONDS: int = 5 * 60
    SMS_MIN_INTERVAL_SECONDS: int = 60
    SMS_DAILY_LIMIT: int = 10
    SMS_MAX_GUESSES: int = 5
    # The sandbox exposes sent SMS codes to testers; never enable it in production.
    SMS_SANDBOX: bool = True

    # Verification runs in this many worker processes (0: in the API process, for tests).
    VERIFY_WORKERS: int = 1
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
    ASR_MODEL_DIR: str | None = None

    # Orders and payment. Fees in fen. The sandbox provider (a cashier page and signed
    # notifications inside this service) is the only one built in.
    PAYMENT_PROVIDER: str = "sandbox"
    PAYEE: str = "新疆维吾尔自治区教育考试院"
    CARD_FEE_FEN: int = 2000
    ORDER_TTL_SECONDS: int = 24 * 3600
    ORDER_SWEEP_SECONDS: int = 60
    PAYMENT_CODE_TTL_SECONDS: int = 3 * 60
    PAYMENT_NOTIFY_MAX_AGE_SECONDS: int = 5 * 60
    DOCUMENT_LINK_TTL_SECONDS: int = 60
    # Special-major proof documents (PDF or JPEG).
    MATERIAL_MAX_BYTES: int = 5 * 1024 * 1024
    # The address phones reach this service at (QR codes and download links carry it);
    # empty: the address the request came in on.
    PUBLIC_URL: str = ""

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


@cache
def get_settings() -> Settings:
    return Settings()
