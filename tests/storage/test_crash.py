"""A writer killed with SIGKILL mid-write leaves no half object, and reopening cleans up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from storage import BlobStore
from storage.atomic import AtomicFile, sweep_temporaries

WRITER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from storage import BlobStore

    root, key_hex, marker = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    store = BlobStore.open(root, bytes.fromhex(key_hex))
    store.create_archive("A1")
    store.put("A1", b"written before the crash", object_id="earlier")

    def endless():
        piece = os.urandom(1024 * 1024)
        for i in range(100_000):
            if i == 32:  # 32 MiB handed over: well past 16 MiB on disk
                marker.write_text("mid-write")
            yield piece

    store.put("A1", endless(), object_id="big")
    """
)


def test_sigkill_mid_write_leaves_no_half_object(tmp_path: Path, master_key: bytes) -> None:
    root = tmp_path / "store"
    marker = tmp_path / "marker"
    repo = Path(__file__).resolve().parents[2]
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), master_key.hex(), str(marker)],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert writer.poll() is None, "writer exited early"
            assert time.monotonic() < deadline, "writer never got going"
            time.sleep(0.01)
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=10) == -signal.SIGKILL
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()

    temporaries = list((root / "blobs" / ".tmp").iterdir())
    assert temporaries, "the kill should have left a partial temporary behind"
    assert sum(p.stat().st_size for p in temporaries) >= 16 * 1024 * 1024

    with BlobStore.open(root, master_key) as store:
        assert list((root / "blobs" / ".tmp").iterdir()) == []
        assert not store.exists("A1", "big")
        assert [info.object_id for info in store.iter_objects()] == ["earlier"]
        assert store.read_bytes("A1", "earlier") == b"written before the crash"
        blobs = sorted(p.name for p in (root / "blobs" / "A1").rglob("*.blob"))
        assert blobs == ["earlier.blob"]
        # The id is still free: the crashed write never happened.
        store.put("A1", b"retried", object_id="big")
        assert store.read_bytes("A1", "big") == b"retried"


def test_sweep_leaves_a_live_writers_temporary_alone(tmp_path: Path) -> None:
    with AtomicFile(tmp_path, "live") as live:
        live.write(b"in progress")
        dead = tmp_path / ".dead.0000.tmp"
        dead.write_bytes(b"left by a crash")
        assert sweep_temporaries(tmp_path) == 1
        assert live.path.exists()
        assert not dead.exists()
    assert not live.path.exists()


def test_keyless_blob_from_a_crash_is_invisible_and_collected(store: BlobStore) -> None:
    store.put("A1", b"kept", object_id="kept")
    # What a crash between publishing the blob and committing its key leaves behind.
    orphan = store.root / "blobs" / "A1" / "orphan.blob"
    orphan.write_bytes(b"ciphertext whose key never reached the disk")
    assert not store.exists("A1", "orphan")
    assert [info.object_id for info in store.iter_objects()] == ["kept"]
    assert store.collect_orphans() == 0  # too recent: could be a put in progress
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    assert store.collect_orphans() == 1
    assert not orphan.exists()
    assert store.read_bytes("A1", "kept") == b"kept"


def test_one_keyless_blob_is_collected_by_its_id(store: BlobStore) -> None:
    store.put("A1", b"kept", object_id="kept")
    orphan = store.root / "blobs" / "A1" / "orphan.blob"
    orphan.write_bytes(b"ciphertext whose key never reached the disk")
    # Its writer is known to be gone, so no age is needed; an object with a key stays.
    assert store.collect_orphan("A1", "kept") is False
    assert store.collect_orphan("A1", "orphan") is True
    assert not orphan.exists()
    assert store.collect_orphan("A1", "orphan") is False
    assert store.read_bytes("A1", "kept") == b"kept"


def test_interrupted_unlink_is_finished_by_open(tmp_path: Path, master_key: bytes) -> None:
    root = tmp_path / "s"
    with BlobStore.open(root, master_key) as store:
        store.create_archive("A1")
        store.put("A1", b"x", object_id="gone")
        path = root / "blobs" / "A1" / "gone.blob"
        saved = path.read_bytes()
        store.shred_object("A1", "gone")
    # Simulate a crash after the key commit but before the unlink: file back, queue row back.
    import sqlite3

    path.write_bytes(saved)
    conn = sqlite3.connect(root / "keys" / "keystore.sqlite3")
    with conn:
        conn.execute("INSERT INTO unlink_queue VALUES ('A1', 'gone')")
    conn.close()
    with BlobStore.open(root, master_key):
        assert not path.exists()
