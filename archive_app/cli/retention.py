"""``archive event|hold|retention|certificate``: retention and destruction commands.

Each command calls one retention service; ``--json`` prints one JSON document. Refusals
(a hold, too few approvals, an approver executing, a below-minimum rule) are typed errors
that ``cli.main`` turns into one line on stderr and exit 1.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from archive_app.cli.runtime import Runtime, as_option, json_option, pass_runtime, print_json
from archive_app.cli.types import DATE
from archive_app.models import LegalHold
from archive_app.services.retention import (
    appraisal,
    batches,
    certificate_files,
    destruction,
    erasure,
    events,
    holds,
    planning,
    schedule,
)


def register(cli: click.Group) -> None:
    for command in (event, hold, retention, certificate):
        cli.add_command(command)


def _today() -> date:
    from archive_app.models.base import utcnow

    return utcnow().date()


# --- events -------------------------------------------------------------------------------


@click.group()
def event() -> None:
    """Retention trigger events of single records."""


@event.command("record")
@click.argument("document")
@click.argument("name", metavar="EVENT", type=click.Choice(events.KNOWN_EVENTS))
@click.argument("day", metavar="DATE", type=DATE)
@as_option
@json_option
@pass_runtime
def event_record(
    runtime: Runtime, document: str, name: str, day: date, as_user: str | None, as_json: bool
) -> None:
    """Record EVENT (contract_end, relationship_end, asset_scrapped) on DOCUMENT."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        row = events.record_event(session, actor, document, name, day)
        result = {"document": document, "event": name, "date": row.event_date.isoformat()}
    if as_json:
        print_json(result)
    else:
        click.echo(f"recorded {name} {result['date']} on {document}")


# --- holds --------------------------------------------------------------------------------


@click.group()
def hold() -> None:
    """Legal holds (冻结) and unsettled-claim flags."""


@hold.command("create")
@click.argument("name")
@click.option("--reason", required=True)
@click.option("--archive", "archive_numbers", multiple=True, metavar="NUMBER")
@click.option("--document", "document_numbers", multiple=True, metavar="DOCUMENT")
@as_option
@json_option
@pass_runtime
def hold_create(
    runtime: Runtime,
    name: str,
    reason: str,
    archive_numbers: tuple[str, ...],
    document_numbers: tuple[str, ...],
    as_user: str | None,
    as_json: bool,
) -> None:
    """Place a legal hold on whole archives or single documents."""
    if not archive_numbers and not document_numbers:
        raise click.UsageError("name at least one --archive or --document")
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
        row = holds.create_hold(
            session, actor, name, reason, archives=archive_numbers, documents=document_numbers
        )
        result = _hold_document(row)
    if as_json:
        print_json(result)
    else:
        click.echo(f"hold {name} placed")


@hold.command("release")
@click.argument("name")
@click.option("--reason", required=True)
@as_option
@json_option
@pass_runtime
def hold_release(
    runtime: Runtime, name: str, reason: str, as_user: str | None, as_json: bool
) -> None:
    """Release a legal hold (the reason is kept)."""
    with runtime.session() as session:
        row = holds.release_hold(session, runtime.actor(session, as_user), name, reason)
        result = _hold_document(row)
    if as_json:
        print_json(result)
    else:
        click.echo(f"hold {name} released")


def _hold_document(h: LegalHold) -> dict[str, Any]:
    return {
        "name": h.name,
        "reason": h.reason,
        "owner": h.owner.username,
        "active": h.active,
        "targets": holds.hold_target_labels(h),
        "created_at": h.created_at.isoformat(),
        "released_at": h.released_at.isoformat() if h.released_at else None,
        "release_reason": h.release_reason,
    }


@hold.command("list")
@as_option
@json_option
@pass_runtime
def hold_list(runtime: Runtime, as_user: str | None, as_json: bool) -> None:
    """Every hold, active first."""
    with runtime.session() as session:
        listing = holds.list_holds(session, runtime.actor(session, as_user))
        result = [_hold_document(h) for h in listing.holds]
    if as_json:
        print_json(result)
        return
    if listing.hidden:
        click.echo(f"{listing.hidden} further hold(s) cover records above your clearance")
    for h in result:
        state = "active" if h["active"] else "released"
        click.echo(f"{h['name']:<24} {state:<9} {', '.join(h['targets'])}  ({h['reason']})")


@hold.command("claim")
@click.argument("document")
@click.option("--reason", required=True, help="The unsettled claim or debt the voucher backs.")
@as_option
@json_option
@pass_runtime
def hold_claim(
    runtime: Runtime, document: str, reason: str, as_user: str | None, as_json: bool
) -> None:
    """Flag a voucher as backing an unsettled claim or debt (未结清的债权债务)."""
    with runtime.session() as session:
        holds.flag_unsettled_claim(session, runtime.actor(session, as_user), document, reason)
    if as_json:
        print_json({"document": document, "unsettled_claim": True, "reason": reason})
    else:
        click.echo(f"{document} held for an unsettled claim")


@hold.command("settle")
@click.argument("document")
@click.option("--reason", required=True)
@as_option
@json_option
@pass_runtime
def hold_settle(
    runtime: Runtime, document: str, reason: str, as_user: str | None, as_json: bool
) -> None:
    """Clear the unsettled-claim flag of a voucher."""
    with runtime.session() as session:
        settled = holds.settle_unsettled_claim(
            session, runtime.actor(session, as_user), document, reason
        )
    if as_json:
        print_json({"document": document, "unsettled_claim": False, "settled": settled})
    else:
        click.echo(f"{document}: claim settled")


# --- retention ----------------------------------------------------------------------------


@click.group()
def retention() -> None:
    """Retention rules, the appraisal plan, destruction lists and erasure requests."""


@retention.command("rules")
@as_option
@json_option
@pass_runtime
def retention_rules(runtime: Runtime, as_user: str | None, as_json: bool) -> None:
    """The retention schedule: class, period, trigger, citation, statutory minimum."""
    with runtime.session() as session:
        views = schedule.list_rules(session, runtime.actor(session, as_user))
        result = [
            {
                "rule": v.rule.code,
                "version": v.rule.version,
                "classes": list(v.classes),
                "period": v.rule.period.to_json(),
                "trigger": v.rule.trigger.describe(),
                "minimum": v.rule.statutory_minimum.to_json() if v.rule.statutory_minimum else None,
                "citation": v.rule.citation.to_json(),
            }
            for v in views
        ]
    if as_json:
        print_json(result)
        return
    for r in result:
        click.echo(
            f"{r['rule']:<22} v{r['version']:<3} {r['period']!s:<10} "
            f"min {r['minimum'] or '-'!s:<10} {r['trigger']}"
        )


@retention.command("set-rule")
@click.argument("code")
@click.argument("period")
@click.option("--reason", required=True)
@as_option
@json_option
@pass_runtime
def retention_set_rule(
    runtime: Runtime, code: str, period: str, reason: str, as_user: str | None, as_json: bool
) -> None:
    """Change rule CODE to PERIOD (years or 'permanent'); never below its minimum."""
    with runtime.session() as session:
        rule = schedule.change_rule(session, runtime.actor(session, as_user), code, period, reason)
    if as_json:
        print_json(
            {
                "rule": rule.code,
                "version": rule.version,
                "period": rule.period.to_json(),
                "reason": rule.change_reason,
            }
        )
    else:
        click.echo(f"{rule.code} is now {rule.period} (version {rule.version})")


@retention.command("plan")
@click.option("--as-of", "as_of", type=DATE, help="Default: today.")
@as_option
@json_option
@pass_runtime
def retention_plan(
    runtime: Runtime, as_of: date | None, as_user: str | None, as_json: bool
) -> None:
    """What is eligible for destruction on DATE, and why every other record is not."""
    with runtime.session() as session:
        report = planning.make_plan(session, runtime.actor(session, as_user), as_of or _today())
        result = report.as_dict()
    if as_json:
        print_json(result)
        return
    click.echo(f"as of {result['as_of']}: {len(result['eligible'])} of {result['total']} eligible")
    if result["hidden"]:
        click.echo(f"{result['hidden']} further record(s) above your clearance are not shown")
    for entry in (*result["eligible"], *result["not_eligible"]):
        click.echo(f"{entry['document']:<28} {entry['reason']:<18} {entry['detail']}")


@retention.command("appraise")
@click.option("--as-of", "as_of", type=DATE, help="Default: today.")
@as_option
@json_option
@pass_runtime
def retention_appraise(
    runtime: Runtime, as_of: date | None, as_user: str | None, as_json: bool
) -> None:
    """Run the periodic appraisal now (what the scheduled task does): notify compliance."""
    with runtime.session() as session:
        actor = runtime.actor(session, as_user)
    note = appraisal.run_appraisal(runtime.container, as_of or _today(), actor=actor)
    if as_json:
        print_json({"as_of": note.as_of.isoformat(), "eligible": note.eligible_count})
    else:
        click.echo(note.message)


@retention.group("batch")
def batch_group() -> None:
    """Disposition batches (销毁清册)."""


def _print_batch(result: dict, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    hidden = result.get("hidden_items", 0)
    click.echo(
        f"batch {result['batch']}: {result['state']}, {len(result['items'])} item(s), "
        f"approvals {len(result['approvers'])}/{result['required_approvals']}"
        + (f", {hidden} further item(s) above your clearance" if hidden else "")
    )
    for item in result["items"]:
        review = item["review"]["action"] if item["review"] else "not reviewed"
        click.echo(f"  {item['document']:<28} {item['rule']:<20} {review}")


def _batch_now(session: Session, number: str) -> dict[str, Any]:
    """The batch as it stands after a change made in ``session``."""
    row, batch = batches.load(session, number)
    return batches.batch_document(row, batch)


@batch_group.command("create")
@click.option("--as-of", "as_of", type=DATE, help="Default: today.")
@click.option("--document", "documents", multiple=True, metavar="DOCUMENT")
@as_option
@json_option
@pass_runtime
def batch_create(
    runtime: Runtime,
    as_of: date | None,
    documents: tuple[str, ...],
    as_user: str | None,
    as_json: bool,
) -> None:
    """A destruction list of everything eligible on DATE (or only the named documents)."""
    with runtime.session() as session:
        row, batch = batches.create(
            session,
            runtime.actor(session, as_user),
            as_of or _today(),
            required_approvals=runtime.settings.retention_approvals,
            documents=documents or None,
        )
        result = batches.batch_document(row, batch)
    _print_batch(result, as_json)


@batch_group.command("list")
@as_option
@json_option
@pass_runtime
def batch_list(runtime: Runtime, as_user: str | None, as_json: bool) -> None:
    with runtime.session() as session:
        listing = batches.list_batches(session, runtime.actor(session, as_user))
        result = [
            {
                "batch": r.number,
                "state": r.state,
                "as_of": r.as_of.isoformat(),
                "items": listing.visible_items[r.number],
                "hidden_items": r.item_count - listing.visible_items[r.number],
            }
            for r in listing.rows
        ]
    if as_json:
        print_json(result)
        return
    for r in result:
        hidden = f" (+{r['hidden_items']} above your clearance)" if r["hidden_items"] else ""
        click.echo(f"{r['batch']:<14} {r['state']:<13} {r['as_of']} {r['items']} item(s){hidden}")
    if listing.hidden:
        click.echo(f"{listing.hidden} further list(s) hold only records above your clearance")


@batch_group.command("show")
@click.argument("number", metavar="BATCH")
@as_option
@json_option
@pass_runtime
def batch_show(runtime: Runtime, number: str, as_user: str | None, as_json: bool) -> None:
    with runtime.session() as session:
        shown = batches.view(session, runtime.actor(session, as_user), number)
        result = batches.batch_document(shown.row, shown.batch, shown.visible)
    _print_batch(result, as_json)


@batch_group.command("review")
@click.argument("number", metavar="BATCH")
@click.argument("documents", nargs=-1, metavar="[DOCUMENT]...")
@click.option("--destroy", "action", flag_value="destroy", help="Destroy the item(s).")
@click.option("--extend", "action", flag_value="extend", help="Keep the item(s) longer.")
@click.option("--reason", default="")
@click.option("--until", "until", type=DATE, help="Next review date of an extension.")
@click.option("--all", "all_items", is_flag=True, help="Review every item of the batch.")
@as_option
@json_option
@pass_runtime
def batch_review(
    runtime: Runtime,
    number: str,
    documents: tuple[str, ...],
    action: str | None,
    reason: str,
    until: date | None,
    all_items: bool,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Review items: --destroy, or --extend --reason R [--until DATE]."""
    if action is None:
        raise click.UsageError("choose --destroy or --extend")
    if not documents and not all_items:
        raise click.UsageError("name the DOCUMENTs or use --all")
    with runtime.session() as session:
        batches.review(
            session,
            runtime.actor(session, as_user),
            number,
            None if all_items else documents,
            action,
            reason=reason,
            review_on=until,
        )
        result = _batch_now(session, number)
    if as_json:
        print_json(result)
    else:
        click.echo(f"batch {number}: reviewed ({action})")


@batch_group.command("approve")
@click.argument("number", metavar="BATCH")
@as_option
@json_option
@pass_runtime
def batch_approve(runtime: Runtime, number: str, as_user: str | None, as_json: bool) -> None:
    """Approve the reviewed list (compliance; distinct users count)."""
    with runtime.session() as session:
        batch = batches.approve(session, runtime.actor(session, as_user), number)
        result = _batch_now(session, number)
    if as_json:
        print_json(result)
    else:
        click.echo(
            f"batch {number}: {batch.approval_count}/{batch.required_approvals} approvals, "
            f"{batch.state.value}"
        )


@batch_group.command("cancel")
@click.argument("number", metavar="BATCH")
@click.option("--reason", required=True)
@as_option
@json_option
@pass_runtime
def batch_cancel(
    runtime: Runtime, number: str, reason: str, as_user: str | None, as_json: bool
) -> None:
    """Cancel a destruction list that has not run (the reason is kept)."""
    with runtime.session() as session:
        batches.cancel(session, runtime.actor(session, as_user), number, reason)
        result = _batch_now(session, number)
    if as_json:
        print_json(result)
    else:
        click.echo(f"batch {number}: cancelled")


@batch_group.command("run")
@click.argument("number", metavar="BATCH")
@click.option("--dry-run", is_flag=True, help="Report everything, change nothing.")
@as_option
@json_option
@pass_runtime
def batch_run(
    runtime: Runtime, number: str, dry_run: bool, as_user: str | None, as_json: bool
) -> None:
    """Execute an approved batch under supervision (监销); prints the certificate's path."""
    container = runtime.container

    def progress(stage: str, done: int, total: int) -> None:
        if not as_json:
            click.echo(f"  {stage}: {done}/{total}", err=True)

    with runtime.session() as session:
        report = destruction.run_batch(
            container,
            session,
            runtime.actor(session, as_user),
            number,
            dry_run=dry_run,
            on_progress=progress,
        )
    if as_json:
        print_json(report.as_dict())
        return
    verb = "would destroy" if dry_run else "destroyed"
    click.echo(f"batch {number}: {verb} {len(report.destroyed)}, skipped {len(report.skipped)}")
    for skip in report.skipped:
        click.echo(f"  skipped {skip['document']}: {skip['reason']} {skip['detail']}")
    if report.certificate_path is not None:
        click.echo(str(report.certificate_path))


@retention.group("erasure")
def erasure_group() -> None:
    """Customer erasure requests (删除个人信息)."""


@erasure_group.command("request")
@click.argument("archive_number", metavar="ARCHIVE")
@click.option("--note", default="")
@click.option("--relationship-ended", "ended", type=DATE)
@as_option
@json_option
@pass_runtime
def erasure_request(
    runtime: Runtime,
    archive_number: str,
    note: str,
    ended: date | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Take an erasure request: batch what may go, restrict what must stay."""
    with runtime.session() as session:
        request, batch_row = erasure.request_erasure(
            session,
            runtime.actor(session, as_user),
            archive_number,
            note=note,
            required_approvals=runtime.settings.retention_approvals,
            relationship_ended=ended,
        )
        result = {"request": request.number, "batch": batch_row.number if batch_row else None}
        result["report"] = request.report
    if as_json:
        print_json(result)
    else:
        click.echo(f"erasure request {result['request']}; batch {result['batch'] or '(none)'}")


@erasure_group.command("report")
@click.argument("number", metavar="REQUEST")
@as_option
@json_option
@pass_runtime
def erasure_report(runtime: Runtime, number: str, as_user: str | None, as_json: bool) -> None:
    """The report for the customer: destroyed, pending approval, kept (restricted) and why."""
    with runtime.session() as session:
        data = erasure.erasure_report(session, runtime.actor(session, as_user), number)
    if as_json:
        print_json(data)
        return
    click.echo(f"erasure request {data['request']} for archive {data['archive']}")
    for key in ("destroyed", "pending_destruction", "kept_restricted"):
        click.echo(f"{key.replace('_', ' ')}: {len(data[key])}")
        for entry in data[key]:
            click.echo(f"  {entry['document']} {entry.get('detail', '')}")


# --- certificates -------------------------------------------------------------------------


@click.group()
def certificate() -> None:
    """Destruction certificates."""


@certificate.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    help="Pin this signer (PEM). Default: the instance's key when ARCHIVE_HOME has one.",
)
@click.option(
    "--as",
    "as_user",
    metavar="USERNAME",
    help="Record the check in the instance's audit trail as this user (compliance, admin "
    "or auditor). Without it the check is offline and records nothing.",
)
@json_option
@pass_runtime
def certificate_verify(
    runtime: Runtime, path: str, public_key: str | None, as_user: str | None, as_json: bool
) -> None:
    """Check a certificate's signature and contents offline."""
    pinned = (
        Path(public_key).read_bytes()
        if public_key
        else certificate_files.instance_public_key(runtime.settings)
    )
    result = certificate_files.verify_bytes(Path(path).read_bytes(), pinned)
    if as_user is not None:
        with runtime.session() as session:
            certificate_files.record_verification(
                session, runtime.actor(session, as_user), Path(path).name, result
            )
    if as_json:
        print_json(result.as_dict())
    elif result.ok:
        assert result.result is not None
        pin = (
            "signer pinned to the given/instance public key"
            if result.pinned
            else "signer NOT pinned: no instance key found, anyone could have signed it"
        )
        click.echo(
            f"valid: certificate {result.result.certificate_id}, batch {result.result.batch_id}, "
            f"{result.result.item_count} destroyed, {result.result.skipped_count} skipped; {pin}"
        )
    if not result.ok:
        click.echo(f"archive: certificate invalid: {result.reason}", err=True)
        sys.exit(1)
