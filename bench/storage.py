"""Benchmark of the encrypted blob store against raw references measured in the same run.

Usage: python bench/storage.py [--size-mb 1024] [--count 2000] [--object-kb 200]
                               [--dir DIR] [--chunk-sweep]

Measures, each phase in its own child process so its peak RSS is its own (os.wait4):
  * one large object (default 1 GiB, generated on the fly, streamed): put and get;
  * many small objects (default 2,000 x 200 KB): put, put_many (group commit) and get;
  * references over the same bytes: AES-256-GCM alone (no I/O), a plain file write with
    fsync (one file, and one fsync'd file per small object), and a plain cold read.
Reads are cold: each file's pages are dropped from the page cache (posix_fadvise
DONTNEED, per file, so nothing else on the machine is disturbed) before it is read.
``--chunk-sweep`` also compares chunk sizes on a 256 MiB object. Prints figures; asserts
nothing. The temporary folder is created on the disk of ``--dir`` (default: the system
temporary folder) and removed afterwards.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

MIB = 1024 * 1024
REPO = Path(__file__).resolve().parents[1]


# -- generated data ------------------------------------------------------------------------


def generated(total: int, piece: int = MIB) -> Iterator[bytes]:
    """Incompressible-looking data produced on the fly: a random block with a counter."""
    block = hashlib.shake_256(b"bench").digest(piece)
    produced = 0
    counter = 0
    while produced < total:
        n = min(piece, total - produced)
        yield (counter.to_bytes(8, "big") + block[8:n]) if n > 8 else block[:n]
        produced += n
        counter += 1


@functools.cache
def _small_block(size: int) -> bytes:
    return hashlib.shake_256(b"small").digest(size)


def small_payload(index: int, size: int) -> bytes:
    return index.to_bytes(8, "big") + _small_block(size)[8:]


def drop_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


# -- child tasks: each prints {"bytes": n, "seconds": s} -----------------------------------


def task_gcm(work: Path, a: argparse.Namespace) -> dict:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(AESGCM.generate_key(256))
    nonce = os.urandom(12)
    total = 0
    start = time.perf_counter()
    if a.small:
        for i in range(a.count):
            data = small_payload(i, a.object_kb * 1000)
            aead.encrypt(nonce, data, b"aad")
            total += len(data)
    else:
        for piece in generated(a.size_mb * MIB, a.chunk):
            aead.encrypt(nonce, piece, b"aad")
            total += len(piece)
    return {"bytes": total, "seconds": time.perf_counter() - start}


def task_raw_write(work: Path, a: argparse.Namespace) -> dict:
    total = 0
    start = time.perf_counter()
    if a.small:
        folder = work / "raw-small"
        folder.mkdir()
        for i in range(a.count):
            data = small_payload(i, a.object_kb * 1000)
            with open(folder / f"f{i}", "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            total += len(data)
    else:
        with open(work / "raw-large", "wb", buffering=0) as f:
            for piece in generated(a.size_mb * MIB):
                f.write(piece)
                total += len(piece)
            os.fsync(f.fileno())
    return {"bytes": total, "seconds": time.perf_counter() - start}


def task_raw_read(work: Path, a: argparse.Namespace) -> dict:
    path = work / "raw-large"
    drop_cache(path)
    total = 0
    start = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while piece := f.read(MIB):
            total += len(piece)
    return {"bytes": total, "seconds": time.perf_counter() - start}


def _store(work: Path, a: argparse.Namespace):
    sys.path.insert(0, str(REPO))
    from storage import BlobStore

    key = bytes.fromhex(a.key)
    store = BlobStore.open(work / "store", key, chunk_size=a.chunk)
    store.create_archive("BENCH")
    return store


def task_put(work: Path, a: argparse.Namespace) -> dict:
    store = _store(work, a)
    total = 0
    start = time.perf_counter()
    if a.small and a.many:
        payloads = (small_payload(i, a.object_kb * 1000) for i in range(a.count))
        stored = store.put_many("BENCH", payloads)
        total = sum(s.size for s in stored)
    elif a.small:
        for i in range(a.count):
            total += store.put(
                "BENCH", small_payload(i, a.object_kb * 1000), object_id=f"s{i}"
            ).size
    else:
        total = store.put("BENCH", generated(a.size_mb * MIB), object_id="large").size
    seconds = time.perf_counter() - start
    store.close()
    return {"bytes": total, "seconds": seconds}


def task_get(work: Path, a: argparse.Namespace) -> dict:
    store = _store(work, a)
    ids = [f"s{i}" for i in range(a.count)] if a.small else ["large"]
    for object_id in ids:
        drop_cache(work / "store" / "blobs" / "BENCH" / f"{object_id}.blob")
    total = 0
    start = time.perf_counter()
    for object_id in ids:
        with store.open_object("BENCH", object_id) as reader:
            for chunk in reader.iter_chunks():
                total += len(chunk)
    seconds = time.perf_counter() - start
    store.close()
    return {"bytes": total, "seconds": seconds}


TASKS = {
    "gcm": task_gcm,
    "raw-write": task_raw_write,
    "raw-read": task_raw_read,
    "put": task_put,
    "get": task_get,
}


# -- parent --------------------------------------------------------------------------------


def run_child(task: str, work: Path, a: argparse.Namespace, **overrides: object) -> dict:
    options = {
        "size_mb": a.size_mb,
        "count": a.count,
        "object_kb": a.object_kb,
        "chunk": a.chunk,
        "small": False,
        "many": False,
        "key": a.key,
    } | overrides
    argv = [sys.executable, __file__, "--child", task, "--work", str(work)]
    argv += ["--size-mb", str(options["size_mb"]), "--count", str(options["count"])]
    argv += ["--object-kb", str(options["object_kb"]), "--chunk", str(options["chunk"])]
    argv += ["--key", str(options["key"])] + (["--small"] if options["small"] else [])
    argv += ["--many"] if options["many"] else []
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=REPO)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"child task {task} failed with exit code {child.returncode}")
    result = json.loads(output)
    result["mb_s"] = result["bytes"] / result["seconds"] / 1e6
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--object-kb", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=0, help="0 = the store's default")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--chunk-sweep", action="store_true")
    parser.add_argument("--child", choices=sorted(TASKS))
    parser.add_argument("--work", type=Path)
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--many", action="store_true")
    parser.add_argument("--key", default="")
    a = parser.parse_args()

    if a.child:
        if not a.chunk:
            sys.path.insert(0, str(REPO))
            from storage import DEFAULT_CHUNK_SIZE

            a.chunk = DEFAULT_CHUNK_SIZE
        print(json.dumps(TASKS[a.child](a.work, a)))
        return

    a.key = os.urandom(32).hex()
    if not a.chunk:
        sys.path.insert(0, str(REPO))
        from storage import DEFAULT_CHUNK_SIZE

        a.chunk = DEFAULT_CHUNK_SIZE
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, chunk {a.chunk // 1024} KiB"
    )
    rows: list[tuple[str, dict]] = []
    with tempfile.TemporaryDirectory(prefix="bench-storage-", dir=a.dir) as tmp:
        work = Path(tmp)
        print(f"large object: {a.size_mb} MiB")
        rows.append(("large  AES-GCM only (no I/O)", run_child("gcm", work, a)))
        rows.append(("large  raw write + fsync", run_child("raw-write", work, a)))
        rows.append(("large  raw read (cold)", run_child("raw-read", work, a)))
        (work / "raw-large").unlink()
        rows.append(("large  store put", run_child("put", work, a)))
        rows.append(("large  store get (cold)", run_child("get", work, a)))
        shutil.rmtree(work / "store")
        print(f"small objects: {a.count} x {a.object_kb} KB")
        rows.append(("small  AES-GCM only (no I/O)", run_child("gcm", work, a, small=True)))
        rows.append(
            ("small  raw write + fsync per file", run_child("raw-write", work, a, small=True))
        )
        shutil.rmtree(work / "raw-small")
        put_many = run_child("put", work, a, small=True, many=True)
        rows.append(("small  store put_many (group commit)", put_many))
        shutil.rmtree(work / "store")
        rows.append(("small  store put", run_child("put", work, a, small=True)))
        rows.append(("small  store get (cold)", run_child("get", work, a, small=True)))
        shutil.rmtree(work / "store")
        sweep = []
        if a.chunk_sweep:
            for chunk in (64 * 1024, 256 * 1024, MIB, 4 * MIB):
                put = run_child("put", work, a, size_mb=256, chunk=chunk)
                get = run_child("get", work, a, size_mb=256, chunk=chunk)
                shutil.rmtree(work / "store")
                sweep.append((chunk, put, get))

    print()
    print(f"{'phase':38} {'MB/s':>8} {'peak RSS MB':>12}")
    for name, result in rows:
        print(f"{name:38} {result['mb_s']:8.0f} {result['peak_rss_mb']:12.1f}")
    figures = dict(rows)
    large_ratio = figures["large  store put"]["mb_s"] / figures["large  raw write + fsync"]["mb_s"]
    small_ratio = (
        figures["small  store put"]["mb_s"] / figures["small  raw write + fsync per file"]["mb_s"]
    )
    many_ratio = (
        figures["small  store put_many (group commit)"]["mb_s"]
        / figures["small  raw write + fsync per file"]["mb_s"]
    )
    peak = max(r["peak_rss_mb"] for name, r in rows if "store" in name)
    print()
    print(f"put / raw fsync'd write, large object : {large_ratio:.0%}  (goal >= 70%)")
    print(f"put / raw fsync'd write, small objects: {small_ratio:.0%}  (goal >= 70%)")
    print(f"put_many / raw fsync'd write, small   : {many_ratio:.0%}  (goal >= 70%)")
    print(f"peak RSS of any store phase           : {peak:.1f} MB  (goal < 100 MB)")
    if sweep:
        print()
        print("chunk size sweep, 256 MiB object: chunk KiB, put MB/s, get MB/s, peak RSS MB")
        for chunk, put, get in sweep:
            rss = max(put["peak_rss_mb"], get["peak_rss_mb"])
            print(f"  {chunk // 1024:6}  {put['mb_s']:8.0f}  {get['mb_s']:8.0f}  {rss:8.1f}")


if __name__ == "__main__":
    main()
