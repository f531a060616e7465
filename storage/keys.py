"""Key material and key wrapping (AES-256-GCM).

Three levels: the master key (supplied by the caller) wraps one key per archive, which wraps
one data key per stored object. A wrapped key is ``nonce(12) || ciphertext(32) || tag(16)``;
the associated data names what the key is for (level, archive id, object id, archive key
generation), so a wrapped key copied onto another row, archive or generation fails to
unwrap instead of silently opening the wrong thing.

Key bytes live only inside :class:`SecretKey`, whose ``repr``/``str`` never show them, and
this module never logs. The key-check value is a GCM tag over a fixed label under the
master key: it lets ``BlobStore.open`` refuse a wrong master key before touching anything.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + 16

_KCV_LABEL = b"storage/key-check/v1"


class UnwrapFailed(Exception):
    """Internal: a wrapped key did not authenticate under the given key and context."""


class SecretKey:
    """32 bytes of key material that refuse to show themselves in logs or tracebacks."""

    __slots__ = ("_aead", "_key")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
            raise ValueError(f"a key must be {KEY_BYTES} bytes")
        self._key = bytes(key)
        self._aead = AESGCM(self._key)

    @classmethod
    def generate(cls) -> SecretKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @property
    def aead(self) -> AESGCM:
        return self._aead

    def __repr__(self) -> str:
        return "SecretKey(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("key material is not picklable")


def _context(*parts: str | int) -> bytes:
    # Length-prefixed so ("a", "bc") and ("ab", "c") can never produce the same context.
    out = bytearray()
    for part in parts:
        raw = part.encode() if isinstance(part, str) else part.to_bytes(8, "big")
        out += len(raw).to_bytes(2, "big") + raw
    return bytes(out)


def archive_key_context(archive_id: str, generation: int) -> bytes:
    return _context("archive-key/v1", archive_id, generation)


def data_key_context(archive_id: str, object_id: str, generation: int) -> bytes:
    return _context("data-key/v1", archive_id, object_id, generation)


def wrap(wrapping: SecretKey, key: SecretKey, context: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + wrapping.aead.encrypt(nonce, key._key, context)


def unwrap(wrapping: SecretKey, wrapped: bytes, context: bytes) -> SecretKey:
    if len(wrapped) != WRAPPED_BYTES:
        raise UnwrapFailed("wrapped key has the wrong length")
    try:
        raw = wrapping.aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
    except InvalidTag:
        raise UnwrapFailed("wrapped key does not authenticate") from None
    return SecretKey(raw)


def key_check_value(master: SecretKey) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + master.aead.encrypt(nonce, b"", _KCV_LABEL)


def key_check_matches(master: SecretKey, kcv: bytes) -> bool:
    try:
        master.aead.decrypt(kcv[:NONCE_BYTES], kcv[NONCE_BYTES:], _KCV_LABEL)
    except (InvalidTag, ValueError):
        return False
    return True
