"""Password hashing (argon2id), session tokens, one-time codes and the server's HMAC key."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's interactive setting for argon2id (19 MiB, t=2, p=1). Hashes made with other
# parameters (argon2-cffi's default, 64 MiB) still verify and are rehashed on login.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1
# Hashes computed at once in this process: a crowd of logins (or an attacker's) queues
# here instead of taking ARGON2_MEMORY_KIB each, all together.
_HASH_SLOTS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
    )


def hash_password(password: str) -> str:
    with _HASH_SLOTS:
        return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    with _HASH_SLOTS:
        try:
            return _hasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def needs_rehash(password_hash: str) -> bool:
    """True for a hash made with other parameters than today's."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """Verified against when an account does not exist, so both paths cost the same."""
    return _hasher().hash("not-a-real-password")


def new_token() -> str:
    """An opaque bearer token; only its digest is stored."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_sms_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def keyed_digest(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 of the parts: a six-digit code's plain hash is undone by trying a
    million codes; without the key it cannot be."""
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def load_secret(configured: str, key_file: Path) -> bytes:
    """The configured secret, or a random one made once in `key_file` (0600) and shared
    by every process that reads the same file."""
    if configured:
        return configured.encode()
    try:
        return bytes.fromhex(key_file.read_text().strip())
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return bytes.fromhex(key_file.read_text().strip())
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


def load_ed25519_key(path: Path) -> Any:
    """An Ed25519 private key kept in `path` (0600), made on first use; processes that
    start together agree on one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return load_ed25519_key(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key
