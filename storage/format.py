"""The blob format: a small versioned header, then AES-256-GCM sealed chunks.

Layout of format version 1 (all integers big-endian)::

    header  (20 bytes)  magic "ARBL" | version u8 = 1 | flags u8 = 0 | reserved u16 = 0
                        | chunk_size u32 | nonce_prefix 8 random bytes
    chunk i             AES-GCM(data_key, nonce = nonce_prefix || i as u32,
                                plaintext = chunk_size bytes (the last chunk: 0..chunk_size),
                                aad = header || len-prefixed archive id || len-prefixed
                                      object id || i as u64 || final flag u8)
                        = ciphertext || 16-byte tag

Every object has at least one chunk and exactly one final one: the last. Binding the header,
the ids, the index and the final flag into each chunk's associated data means a flipped
bit, a reordered, dropped or appended chunk, a truncation at a chunk boundary, and a blob
copied to another object id or archive all fail authentication. Each object has its own
random data key, so the counter nonce never repeats under one key.

Reading never yields a byte of a chunk before that chunk authenticates, and a stream that
ends without its final chunk raises :class:`IntegrityError` instead of ending quietly.
Memory use is two chunks whatever the object size.
"""

from __future__ import annotations

import io
import secrets
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag

from .digest import StreamDigest
from .errors import IntegrityError
from .keys import SecretKey

MAGIC = b"ARBL"
VERSION = 1
HEADER = struct.Struct(">4sBBHI8s")
TAG_BYTES = 16
DEFAULT_CHUNK_SIZE = 256 * 1024  # see bench/RESULTS.md: GCM + SHA-256 are fastest near 256 KiB
MIN_CHUNK_SIZE = 4 * 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
MAX_CHUNKS = 2**32

Source = BinaryIO | Iterable[bytes] | bytes | bytearray | memoryview


class Sink(Protocol):
    def write(self, data: bytes | memoryview, /) -> object: ...


def _ids(archive_id: str, object_id: str) -> bytes:
    a, o = archive_id.encode(), object_id.encode()
    return len(a).to_bytes(2, "big") + a + len(o).to_bytes(2, "big") + o


def _fixed_chunks(source: Source, size: int) -> Iterator[bytes | memoryview]:
    """Re-cut any source into ``size``-byte pieces; only the last one may be shorter.

    Avoids copying where the data cannot change under us (immutable ``bytes`` pieces, or a
    whole buffer passed in one call): the writer keeps one piece of look-ahead, so a piece
    from a producer that refills one mutable buffer must be copied before asking for more.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source).cast("B")
        for start in range(0, len(view), size):
            yield view[start : start + size]
        return
    read = getattr(source, "read", None)
    if read is not None:
        while True:
            piece = read(size)
            while piece and len(piece) < size:
                # Pipes and sockets return short reads; only an empty read means the end.
                more = read(size - len(piece))
                if not more:
                    break
                piece += more
            if not piece:
                return
            yield bytes(piece)
            if len(piece) < size:
                return
        return
    if isinstance(source, str):
        raise TypeError("source must be bytes, a binary file or an iterable of bytes")
    buffer = bytearray()
    for piece in source:
        if not isinstance(piece, bytes | bytearray | memoryview):
            raise TypeError("an iterable source must yield bytes")
        view = memoryview(piece).cast("B")
        if not isinstance(piece, bytes):
            view = memoryview(bytes(view))
        if buffer:
            need = size - len(buffer)
            buffer += view[:need]
            view = view[need:]
            if len(buffer) < size:
                continue
            yield bytes(buffer)
            buffer = bytearray()
        whole = len(view) - len(view) % size
        for start in range(0, whole, size):
            yield view[start : start + size]
        buffer += view[whole:]
    if buffer:
        yield bytes(buffer)


def encrypt_stream(
    source: Source,
    sink: Sink,
    key: SecretKey,
    archive_id: str,
    object_id: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> tuple[str, int]:
    """Write the sealed form of ``source`` to ``sink``; return (SHA-256 hex, plaintext size)."""
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE}")
    prefix = secrets.token_bytes(8)
    header = HEADER.pack(MAGIC, VERSION, 0, 0, chunk_size, prefix)
    aad_base = header + _ids(archive_id, object_id)
    sink.write(header)
    digest = StreamDigest()
    size = 0
    index = 0

    def seal(plain: bytes | memoryview, final: bool) -> None:
        nonce = prefix + index.to_bytes(4, "big")
        aad = aad_base + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")
        sink.write(key.aead.encrypt(nonce, plain, aad))

    pending: bytes | memoryview | None = None
    try:
        for piece in _fixed_chunks(source, chunk_size):
            digest.update(piece)
            size += len(piece)
            if pending is not None:
                seal(pending, final=False)
                index += 1
                if index >= MAX_CHUNKS:
                    raise ValueError("object too large for this chunk size")
            pending = piece
        seal(pending if pending is not None else b"", final=True)
    finally:
        digest.close()
    return digest.hexdigest(), size


class ChunkDecryptor:
    """Yields authenticated plaintext chunks of one blob, in order, from a binary file."""

    def __init__(self, file: BinaryIO, key: SecretKey, archive_id: str, object_id: str) -> None:
        self._file = file
        self._key = key
        self.archive_id = archive_id
        self.object_id = object_id
        header = self._read_exact(HEADER.size)
        if len(header) < HEADER.size:
            raise self._damage("blob is shorter than its header")
        magic, version, _flags, _reserved, chunk_size, prefix = HEADER.unpack(header)
        if magic != MAGIC:
            raise self._damage("blob header has the wrong magic number")
        if version != VERSION:
            raise self._damage(f"blob format version {version} is not supported")
        if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise self._damage(f"blob header names an impossible chunk size {chunk_size}")
        self._prefix = prefix
        self._block = chunk_size + TAG_BYTES
        self._aad_base = header + _ids(archive_id, object_id)

    def _damage(self, reason: str) -> IntegrityError:
        return IntegrityError(self.archive_id, self.object_id, reason)

    def _read_exact(self, n: int) -> bytes:
        data = self._file.read(n)
        while data and len(data) < n:
            more = self._file.read(n - len(data))
            if not more:
                break
            data += more
        return data

    def __iter__(self) -> Iterator[bytes]:
        index = 0
        block = self._read_exact(self._block)
        if not block:
            raise self._damage("blob has no chunks (truncated)")
        while True:
            # One block of look-ahead: a chunk is final exactly when nothing follows it.
            following = self._read_exact(self._block) if len(block) == self._block else b""
            final = not following
            if len(block) < TAG_BYTES:
                raise self._damage(f"chunk {index} is cut short (truncated)")
            nonce = self._prefix + index.to_bytes(4, "big")
            aad = self._aad_base + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")
            try:
                plain = self._key.aead.decrypt(nonce, block, aad)
            except InvalidTag:
                raise self._damage(
                    f"chunk {index} failed authentication (damaged, truncated, reordered "
                    "or belonging to another object)"
                ) from None
            yield plain
            if final:
                return
            index += 1
            if index >= MAX_CHUNKS:
                raise self._damage("too many chunks")
            block = following


class ObjectReader(io.RawIOBase):
    """A read-only, forward-only file over a stored object; every byte is authenticated.

    Raises :class:`IntegrityError` from ``read`` before returning any byte of a damaged
    chunk, and at the end if the final chunk is missing.
    """

    def __init__(self, file: BinaryIO, decryptor: ChunkDecryptor, size: int) -> None:
        super().__init__()
        self._file = file
        self._chunks = iter(decryptor)
        self._buffer = memoryview(b"")
        self._eof = False
        self.size = size
        self.archive_id = decryptor.archive_id
        self.object_id = decryptor.object_id

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        while not self._buffer and not self._eof:
            try:
                self._buffer = memoryview(next(self._chunks))
            except StopIteration:
                self._eof = True
        return bool(self._buffer)

    def readinto(self, target: bytearray | memoryview) -> int:
        if not self._fill():
            return 0
        n = min(len(target), len(self._buffer))
        memoryview(target).cast("B")[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def readall(self) -> bytes:
        parts = [bytes(self._buffer)] if self._buffer else []
        self._buffer = memoryview(b"")
        parts.extend(self.iter_chunks())
        return b"".join(parts)

    def iter_chunks(self) -> Iterator[bytes]:
        """The remaining plaintext, one authenticated chunk at a time (no copying)."""
        if self._buffer:
            yield bytes(self._buffer)
            self._buffer = memoryview(b"")
        while not self._eof:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._eof = True
                return
            if chunk:
                yield chunk

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()
