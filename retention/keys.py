"""Ed25519 signing keys for destruction certificates, as bytes in and bytes out.

Contract: these helpers generate and (de)serialise the instance's certificate key. They do
no file I/O: writing the private key to a 0600 file (or a secret store) is the
application's job. Private keys travel as PKCS#8 PEM (optionally password-encrypted);
public keys as SubjectPublicKeyInfo PEM or the 32 raw bytes, both accepted on input.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

RAW_PUBLIC_KEY_LENGTH = 32


def generate_private_key_pem(password: bytes | None = None) -> bytes:
    """A new Ed25519 private key as PKCS#8 PEM, encrypted when ``password`` is given."""
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def load_private_key(pem: bytes, password: bytes | None = None) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=password)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """Accept a PEM public key or the 32 raw bytes."""
    if len(data) == RAW_PUBLIC_KEY_LENGTH:
        return Ed25519PublicKey.from_public_bytes(data)
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(private_key_pem: bytes, password: bytes | None = None) -> bytes:
    """The PEM public key matching a PEM private key (to publish or pin)."""
    public = load_private_key(private_key_pem, password).public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_fingerprint(public_key: bytes) -> str:
    """SHA-256 (hex) of the raw public key; ``public_key`` is PEM or raw bytes."""
    return hashlib.sha256(raw_public_key(load_public_key(public_key))).hexdigest()
