"""Why a backup or a restore was refused or failed: typed, each carrying its data.

All are :class:`~archive_app.errors.AppError`, so the CLI prints the one-line message and
exits 1, and the web layer maps them like every other refusal.
"""

from __future__ import annotations

from pathlib import Path

from archive_app.errors import AppError, Conflict


class BackupError(AppError):
    code = "backup_failed"


class DestinationNotEmpty(Conflict):
    code = "backup_destination_not_empty"

    def __init__(self, path: Path) -> None:
        super().__init__(f"backup destination {path} exists and is not empty; name a new folder")
        self.path = path


class BackupInconsistent(BackupError):
    """Stored objects the copies need are gone: a key the database copy references is
    not in the key-store copy, or a key's blob file disappeared before it was copied."""

    code = "backup_inconsistent"

    def __init__(self, missing: list[str], total: int) -> None:
        shown = ", ".join(missing[:3]) + (" ..." if total > 3 else "")
        super().__init__(
            f"backup abandoned: {total} stored objects were deleted or destroyed while the "
            f"backup ran ({shown}); nothing was kept, run the backup again (if it keeps "
            "failing, `archive verify` shows what is missing from the store)"
        )
        self.missing = missing
        self.total = total


class BackupIncomplete(BackupError):
    code = "backup_incomplete"

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} holds no manifest.json: the backup is incomplete (interrupted or not "
            "a backup) and cannot be restored"
        )
        self.path = path


class BackupDamaged(BackupError):
    """A file of the backup is missing, or its size or SHA-256 differs from the manifest."""

    code = "backup_damaged"

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"backup damaged: {path}: {problem}; nothing was restored")
        self.path = path
        self.problem = problem


class BackupUnsupported(BackupError):
    code = "backup_unsupported"

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot restore this backup: {reason}")
        self.reason = reason


class RestoreKeyMismatch(BackupError):
    """The master key the instance is configured with does not open the backed-up keys."""

    code = "restore_wrong_master_key"

    def __init__(self, source: str) -> None:
        super().__init__(
            f"the master key from {source} does not open the backup's key store; supply the "
            "master key the backup was made with (ARCHIVE_MASTER_KEY or the key file); "
            "nothing was restored"
        )
        self.source = source


class TargetNotEmpty(Conflict):
    code = "restore_target_not_empty"

    def __init__(self, what: str) -> None:
        super().__init__(
            f"refusing to restore: {what}; restore only into an empty instance (a new "
            "ARCHIVE_HOME and an empty database, without `archive init`)"
        )
        self.what = what


class RestoreIndexFailed(BackupError):
    """Everything was restored but the search index could not be rebuilt."""

    code = "restore_index_failed"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the restore is complete but rebuilding the search index failed ({reason}); "
            "run `archive reindex`"
        )
        self.reason = reason


class LedgerRequired(BackupError):
    """No destruction ledger to replay, and the operator did not say to go without."""

    code = "restore_ledger_required"

    def __init__(self) -> None:
        super().__init__(
            "a restore replays the destruction ledger, so that nothing destroyed after the "
            "backup comes back: set ARCHIVE_LEDGER_DIR to its second copy or pass --ledger "
            "FOLDER (the old instance's `ledger` folder will do); only if no ledger "
            "survives, pass --without-ledger; nothing was restored"
        )


class LedgerRejected(BackupError):
    """The ledger given does not verify, or does not belong to this backup."""

    code = "restore_ledger_rejected"

    def __init__(self, folder: Path, reason: str) -> None:
        super().__init__(f"destruction ledger {folder} refused: {reason}; nothing was restored")
        self.folder = folder
        self.reason = reason
