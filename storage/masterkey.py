"""Master key helpers: generate, create a key file, load a key file, parse a supplied value.

The library never reads the environment: the application reads its variable and hands the
string to :func:`parse_master_key`. A key file holds the key as one base64 line (raw 32 bytes
are accepted too) and must be private to its owner (no group or other permission bits);
anything else is refused with :class:`InsecureKeyFile` before the key is read.
:func:`create_key_file` never replaces an existing file: losing the master key loses every
stored object, so overwriting one is never what an operator meant.

Keep the master key out of backups of the instance folder (see ``storage.store``): a backup
that also holds the master key can decrypt everything the backup held.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from .atomic import ensure_dir, write_file_atomic
from .errors import InsecureKeyFile, MasterKeyFileExists, MasterKeyInvalid, MasterKeyMissing
from .keys import KEY_BYTES, SecretKey

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def generate_master_key() -> bytes:
    """32 fresh random bytes from the operating system's CSPRNG."""
    return SecretKey.generate()._key


def encode_master_key(key: bytes) -> str:
    """The text form written to key files and accepted by :func:`parse_master_key`."""
    _check_length(key, "key")
    return base64.b64encode(key).decode("ascii")


def parse_master_key(value: str | bytes | None, *, source: str = "the supplied value") -> bytes:
    """Decode a master key given as 64 hex digits or base64 (standard or URL-safe).

    ``source`` names where the value came from (e.g. the environment variable) for messages.
    """
    if value is None:
        raise MasterKeyMissing(source)
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        raise MasterKeyMissing(source)
    if len(text) == 2 * KEY_BYTES and set(text) <= _HEX_DIGITS:
        return bytes.fromhex(text)
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in padded or "_" in padded:
            key = base64.urlsafe_b64decode(padded)
        else:
            key = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyInvalid(source, "not base64 or hex") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyInvalid(source, f"decodes to {len(key)} bytes, expected {KEY_BYTES}")
    return key


def load_key_file(path: Path) -> bytes:
    """Read a master key file after checking it is private to its owner (mode 0600 or 0400)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise MasterKeyMissing(f"key file {path} does not exist") from None
    try:
        # fstat the opened file, not the path, so a swap between check and read cannot
        # smuggle in a different file.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InsecureKeyFile(path, stat.S_IMODE(info.st_mode), "not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise InsecureKeyFile(path, mode)
        if info.st_uid not in (os.geteuid(), 0):
            raise InsecureKeyFile(path, mode, f"owned by uid {info.st_uid}, not by this user")
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    if len(raw) == KEY_BYTES:
        # Raw key bytes: no text form of a 32-byte key is itself 32 characters long.
        return raw
    return parse_master_key(raw, source=f"key file {path}")


def create_key_file(path: Path, key: bytes | None = None) -> bytes:
    """Create ``path`` holding ``key`` (or a new random key) with mode 0600; return the key.

    Atomic (temporary file, fsync, link, fsync directory) and refuses to replace an existing
    file with :class:`MasterKeyFileExists`.
    """
    path = Path(path)
    key = generate_master_key() if key is None else key
    _check_length(key, "key")
    if path.exists() or path.is_symlink():
        raise MasterKeyFileExists(path)
    ensure_dir(path.parent)
    try:
        write_file_atomic(
            path, (encode_master_key(key) + "\n").encode(), mode=0o600, overwrite=False
        )
    except FileExistsError:
        raise MasterKeyFileExists(path) from None
    return key


def _check_length(key: bytes, source: str) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
        raise MasterKeyInvalid(source, f"a master key is {KEY_BYTES} bytes")
