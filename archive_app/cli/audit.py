"""``archive audit verify|checkpoint|verify-checkpoint``."""

from __future__ import annotations

from pathlib import Path

import click

from archive_app.cli.runtime import Runtime, json_option, pass_runtime, print_json
from archive_app.errors import AuditChainBroken, NotInitialised, ValidationFailed
from archive_app.services.audit_checkpoints import (
    Checkpoint,
    CheckpointInvalid,
    read_checkpoint,
    verify_trail,
    write_checkpoint,
)
from archive_app.services.retention.certificate_files import instance_public_key

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def register(cli: click.Group) -> None:
    cli.add_command(audit)


@click.group()
def audit() -> None:
    """The tamper-evident audit trail."""


def _public_key(runtime: Runtime, given: Path | None) -> bytes:
    if given is not None:
        return given.read_bytes()
    key = instance_public_key(runtime.settings)
    if key is None:
        raise NotInitialised(f"no instance signing key in {runtime.settings.home}")
    return key


def _read(path: Path, public_key: bytes) -> Checkpoint:
    try:
        return read_checkpoint(path.read_bytes(), public_key, path)
    except CheckpointInvalid as error:
        raise ValidationFailed({str(path): error.reason}) from None


@audit.command("verify")
@click.option(
    "--checkpoint",
    "extra",
    multiple=True,
    type=_FILE,
    help="Also check against this exported checkpoint (repeatable).",
)
@json_option
@pass_runtime
def verify(runtime: Runtime, extra: tuple[Path, ...], as_json: bool) -> None:
    """Check the hash chain and the signed checkpoints; exit 1 and name the first broken
    link, a truncated tail or a forged checkpoint."""
    marks = [_read(path, _public_key(runtime, None)) for path in extra]
    with runtime.session() as session:
        report = verify_trail(runtime.settings, session, extra=marks)
    if as_json:
        print_json(report.as_dict())
        if not report.ok:
            raise SystemExit(1)
        return
    if not report.chain.ok:
        raise AuditChainBroken(report.chain.broken_at, report.chain.problem or "")
    if report.problems:
        raise AuditChainBroken(None, "; ".join(report.problems))
    signed = (
        f", up to the checkpoint signed {report.checkpoint.signed_at:%Y-%m-%d %H:%M} UTC "
        f"(entry {report.checkpoint.seq})"
        if report.checkpoint
        else ", no signed checkpoint yet"
    )
    click.echo(f"audit trail intact: {report.chain.entries} entries verified{signed}")


@audit.command("checkpoint")
@click.option(
    "--export",
    "export_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a copy here, to keep away from the instance.",
)
@json_option
@pass_runtime
def checkpoint(runtime: Runtime, export_to: Path | None, as_json: bool) -> None:
    """Sign the current head of the trail now (the worker also does this every hour)."""
    signed = write_checkpoint(runtime.settings, runtime.database)
    if signed is None:
        raise ValidationFailed({"trail": "the audit trail is empty; nothing to sign"})
    if export_to is not None:
        assert signed.path is not None
        try:
            export_to.write_bytes(signed.path.read_bytes())
        except OSError as error:
            raise ValidationFailed(
                {"--export": f"cannot write {export_to}: {error.strerror}"}
            ) from None
    if as_json:
        print_json({**signed.as_dict(), "exported": str(export_to) if export_to else None})
    else:
        click.echo(f"signed entry {signed.seq} ({signed.entry_hash[:16]}…) in {signed.path}")


@audit.command("verify-checkpoint")
@click.argument("path", type=_FILE)
@click.option(
    "--public-key",
    type=_FILE,
    help="The signer's public key (PEM). Default: the instance's key.",
)
@json_option
@pass_runtime
def verify_checkpoint(runtime: Runtime, path: Path, public_key: Path | None, as_json: bool) -> None:
    """Check an exported checkpoint's signature offline (no database needed)."""
    signed = _read(path, _public_key(runtime, public_key))
    if as_json:
        print_json({"valid": True, **signed.as_dict()})
    else:
        click.echo(
            f"valid checkpoint: entry {signed.seq} ({signed.entry_hash}) "
            f"signed {signed.signed_at:%Y-%m-%d %H:%M} UTC"
        )
