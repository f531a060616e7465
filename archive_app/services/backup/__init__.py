"""Consistent backup and restore of a whole instance (``archive backup`` / ``restore``).

A backup is a new folder holding a consistent copy of the database (always as SQLite, so a
backup of either database restores into either), of the key store, of the encrypted blob of
every stored object, of the certificate signing key, and a ``manifest.json`` written last
(see :mod:`.manifest`). It never holds the master key: the key store in it is wrapped by the
master key, so the backup is unreadable without it, and a destruction's crypto-shredding
keeps holding against the backup only while the two are kept apart (see
:mod:`storage.store`). A restore therefore needs the master key supplied separately. The
search index is not backed up; restore rebuilds it.

- :func:`create_backup` (:mod:`.create`): only administrators; copy order and the
  consistency check (:mod:`.consistency`).
- :func:`restore_backup` (:mod:`.restore`): into an empty instance (:mod:`.target`), every
  check before the first write; safe to run again after a failure.
- :mod:`.manifest`: the folder layout and ``manifest.json``.
- :mod:`.database` and :mod:`.tables`: the database copy, in both directions.
- :mod:`.errors`: why a backup or restore was refused; :mod:`.progress`: the callback.

Both take the acting user explicitly and a ``progress(phase, done, total)`` callback.
"""

from archive_app.services.backup.create import BackupReport, create_backup
from archive_app.services.backup.errors import (
    BackupDamaged,
    BackupError,
    BackupIncomplete,
    BackupInconsistent,
    BackupUnsupported,
    DestinationNotEmpty,
    LedgerRejected,
    LedgerRequired,
    RestoreIndexFailed,
    RestoreKeyMismatch,
    TargetNotEmpty,
)
from archive_app.services.backup.restore import RestoreReport, restore_backup

__all__ = [
    "BackupDamaged",
    "BackupError",
    "BackupIncomplete",
    "BackupInconsistent",
    "BackupReport",
    "BackupUnsupported",
    "DestinationNotEmpty",
    "LedgerRejected",
    "LedgerRequired",
    "RestoreIndexFailed",
    "RestoreKeyMismatch",
    "RestoreReport",
    "TargetNotEmpty",
    "create_backup",
    "restore_backup",
]
