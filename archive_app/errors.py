"""The application's error types, each carrying the data that explains it.

Services raise these; exactly one place per front end translates them: the web layer
maps :attr:`AppError.http_status`, the CLI prints ``str(error)`` on one line and exits
with :attr:`AppError.exit_code`. Library errors (storage, indexing, retention) are
translated there too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from indexing.extract.errors import ExtractError
from indexing.search.errors import SearchError
from retention.errors import RetentionError
from storage.errors import StorageError

# Errors of the side libraries that reach a front end as a refused operation (services
# translate the ones they expect into AppErrors; the rest still end on one line).
LibraryError = (StorageError, ExtractError, SearchError, RetentionError)


class AppError(Exception):
    """Base class: a refused or failed operation a user can understand."""

    http_status = 400
    exit_code = 1
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SettingsError(AppError):
    code = "invalid_setting"

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"invalid setting {variable}: {problem}")
        self.variable = variable
        self.problem = problem


class NotFound(AppError):
    http_status = 404
    code = "not_found"

    def __init__(self, kind: str, identifier: str) -> None:
        super().__init__(f"{kind} {identifier!r} not found")
        self.kind = kind
        self.identifier = identifier


class HiddenByClearance(NotFound):
    """An existing object above the user's clearance: answered exactly like a missing one
    (its existence is not revealed), but recorded in the audit trail as a refusal."""

    def __init__(self, kind: str, identifier: str, username: str) -> None:
        super().__init__(kind, identifier)
        self.username = username


class PermissionDenied(AppError):
    http_status = 403
    code = "forbidden"

    def __init__(self, action: str, username: str | None = None) -> None:
        who = f"user {username!r}" if username else "you"
        super().__init__(f"{who} may not {action}")
        self.action = action
        self.username = username


class ValidationFailed(AppError):
    """One or more fields are invalid; ``problems`` maps field name to message."""

    http_status = 422
    code = "invalid"

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        text = "; ".join(f"{name}: {message}" for name, message in self.problems.items())
        super().__init__(f"invalid input: {text}")


class PasswordRefused(ValidationFailed):
    """A new password refused: the current password given is wrong, or the new one breaks
    strength rules. ``reasons`` names each broken rule by its code (``wrong_current`` and
    the codes of :class:`archive_app.domain.password_policy.Weakness`), so that a front end
    can say each in the user's language; ``problems`` says them in English per field."""

    code = "password_refused"

    def __init__(self, problems: Mapping[str, str], reasons: Sequence[str]) -> None:
        super().__init__(problems)
        self.reasons = tuple(reasons)


class ClearanceInsufficient(PermissionDenied):
    """An action on a set of records some of which the actor may not see: refused, and
    said by count, never by name."""

    code = "clearance_insufficient"

    def __init__(self, action: str, username: str, hidden: int) -> None:
        super().__init__(action, username)
        self.hidden = hidden
        self.message = (
            f"user {username!r} may not {action}: {hidden} of its records are above "
            "your clearance or restricted"
        )
        self.args = (self.message,)


class RecordRestricted(AppError):
    """Kept only for storage and security after an erasure request (PIPL art. 47)."""

    http_status = 403
    code = "record_restricted"

    def __init__(self, document: str, username: str | None = None) -> None:
        self.document = document
        self.username = username
        super().__init__(
            f"document {document} is restricted to storage after an erasure request; "
            "only compliance may access it"
        )


class Conflict(AppError):
    http_status = 409
    code = "conflict"


class UsernameTaken(Conflict):
    """A user of that name already exists (user names are never reused)."""

    code = "username_taken"

    def __init__(self, username: str) -> None:
        super().__init__(f"user {username!r} already exists")
        self.username = username


class InspectionRunning(Conflict):
    """A periodic inspection is already running: two at once would only double the load."""

    code = "inspection_running"

    def __init__(self, run: int | None, started_at: object) -> None:
        which = f"run {run}, " if run is not None else ""
        super().__init__(f"an inspection is already running ({which}started {started_at})")
        self.run = run
        self.started_at = started_at


class AuthenticationFailed(AppError):
    http_status = 401
    code = "authentication_failed"

    def __init__(self) -> None:
        super().__init__("wrong user name or password")


class TokenRefused(AppError):
    """An API call without a live bearer token (missing, unknown, revoked, expired, or its
    user deactivated): all answered alike, so a caller learns nothing about a token."""

    http_status = 401
    code = "invalid_token"

    def __init__(self) -> None:
        super().__init__("send a valid API token: Authorization: Bearer TOKEN")


class Throttled(AppError):
    """A caller over its allowance of API calls (per user or per address): answered 429
    with ``Retry-After: retry_after``."""

    http_status = 429
    code = "throttled"

    def __init__(self, retry_after: int, limit: str) -> None:
        super().__init__(f"too many requests ({limit}); retry in {retry_after} s")
        self.retry_after = retry_after
        self.limit = limit


class NotInitialised(AppError):
    code = "not_initialised"

    def __init__(self, detail: str) -> None:
        super().__init__(f"the instance is not initialised ({detail}); run `archive init` first")


class AuditChainBroken(AppError):
    code = "audit_chain_broken"

    def __init__(self, entry: int | None, problem: str) -> None:
        super().__init__(f"audit trail broken at entry {entry}: {problem}")
        self.entry = entry
        self.problem = problem


class AuditExportBroken(AppError):
    """An exported audit trail whose entries do not verify offline."""

    code = "audit_export_broken"

    def __init__(self, path: object, line: int | None, problem: str) -> None:
        super().__init__(f"{path}: line {line} does not verify: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


class MasterKeyLost(AppError):
    code = "master_key_lost"

    def __init__(self, store: object, key_file: object) -> None:
        super().__init__(
            f"the encrypted store in {store} exists but its master key {key_file} is missing: "
            "put the key file back there from where you keep it (mode 0600), or point "
            "ARCHIVE_MASTER_KEY_FILE at it, or set ARCHIVE_MASTER_KEY; do not run "
            "`archive init` for this: a new key cannot read the data"
        )


class UnknownDocumentClass(AppError):
    http_status = 422
    code = "unknown_class"

    def __init__(self, class_code: str, known: str) -> None:
        super().__init__(f"unknown document class {class_code!r}; use one of: {known}")
        self.class_code = class_code


class CannotWrite(AppError):
    """An output file (``-o FILE``) could not be written; nothing was left half-written."""

    code = "cannot_write"

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason


class YearEndScopeHidden(ClearanceInsufficient):
    """A year-end sign-off over archives some of which the signer may not see: refused,
    and said by count, never by name (a sign-off vouches for every archive in scope)."""

    def __init__(self, action: str, username: str, hidden: int) -> None:
        super().__init__(action, username, hidden)
        self.message = (
            f"user {username!r} may not {action}: {hidden} archive(s) in scope are above "
            "your clearance"
        )
        self.args = (self.message,)


class YearEndAlreadySignedOff(Conflict):
    """A year and scope are signed off once; the first sign-off stands."""

    code = "year_end_signed_off"

    def __init__(self, year: int, scope: str, signed_by: str, signed_at: object) -> None:
        super().__init__(
            f"the year-end review {year} ({scope}) was already signed off by {signed_by} "
            f"at {signed_at}"
        )
        self.year = year
        self.scope = scope
        self.signed_by = signed_by
        self.signed_at = signed_at


class ConsumeFolderBusy(AppError):
    """Another process already consumes this intake folder (it holds the folder's lock)."""

    http_status = 409
    code = "consume_folder_busy"

    def __init__(self, folder: object) -> None:
        super().__init__(f"another process already consumes {folder}")
        self.folder = folder


class ClassDefinitionRefused(ValidationFailed):
    """A class or field definition an administrator asked for is refused; ``field`` names
    the part of the definition (``code``, ``number_code``, ``rule``, ``type``, ...) and
    ``value`` what was given. Each kind below has its own ``code``."""

    code = "class_definition_refused"

    def __init__(self, field: str, value: str, problem: str) -> None:
        super().__init__({field: problem})
        self.field = field
        self.value = value


class InvalidClassCode(ClassDefinitionRefused):
    code = "invalid_class_code"

    def __init__(self, value: str) -> None:
        super().__init__(
            "code", value, "must be 2-32 lowercase letters, digits or _, starting with a letter"
        )


class InvalidNumberCode(ClassDefinitionRefused):
    code = "invalid_number_code"

    def __init__(self, value: str) -> None:
        super().__init__("number_code", value, "must be 2-4 capital letters (like HT)")


class DuplicateClassCode(ClassDefinitionRefused):
    http_status = 409
    code = "duplicate_class_code"

    def __init__(self, value: str) -> None:
        super().__init__("code", value, "is already the code of a class")


class DuplicateNumberCode(ClassDefinitionRefused):
    http_status = 409
    code = "duplicate_number_code"

    def __init__(self, value: str, used_by: str) -> None:
        super().__init__("number_code", value, f"is already used by class {used_by}")
        self.used_by = used_by


class UnknownRetentionRule(ClassDefinitionRefused):
    code = "unknown_rule"

    def __init__(self, value: str, known: Sequence[str]) -> None:
        super().__init__("rule", value, f"is not a retention rule; use one of: {', '.join(known)}")
        self.known = tuple(known)


class UnknownFieldType(ClassDefinitionRefused):
    code = "unknown_field_type"

    def __init__(self, value: str, known: Sequence[str]) -> None:
        super().__init__("type", value, f"is not a field type; use one of: {', '.join(known)}")
        self.known = tuple(known)


class InvalidFieldName(ClassDefinitionRefused):
    code = "invalid_field_name"

    def __init__(self, value: str) -> None:
        super().__init__(
            "name",
            value,
            "must be 1-40 lowercase letters, digits or _, starting with a letter "
            "(not class or title)",
        )


class DuplicateField(ClassDefinitionRefused):
    http_status = 409
    code = "duplicate_field"

    def __init__(self, value: str, class_code: str) -> None:
        super().__init__("name", value, f"is already a field of class {class_code}")
        self.class_code = class_code


class ChoicesMissing(ClassDefinitionRefused):
    code = "choices_missing"

    def __init__(self, value: str) -> None:
        super().__init__("choices", value, "a choice field needs at least two choices")


class ChoicesNotAllowed(ClassDefinitionRefused):
    code = "choices_not_allowed"

    def __init__(self, value: str, field_type: str) -> None:
        super().__init__("choices", value, f"only a choice field has choices, not {field_type}")


class UnknownField(ClassDefinitionRefused):
    http_status = 404
    code = "unknown_field"

    def __init__(self, value: str, class_code: str) -> None:
        super().__init__("name", value, f"is not a field of class {class_code}")
        self.class_code = class_code


class FieldRetired(ClassDefinitionRefused):
    """A retired field takes no changes (declared records keep it in their definition)."""

    http_status = 409
    code = "field_retired"

    def __init__(self, value: str) -> None:
        super().__init__("name", value, "is a retired field")


class FieldGovernsOthers(ClassDefinitionRefused):
    """A flag field that other fields' rules name cannot be retired while they do."""

    http_status = 409
    code = "field_governs_others"

    def __init__(self, value: str, governed: Sequence[str]) -> None:
        super().__init__(
            "name", value, f"decides whether these fields apply: {', '.join(governed)}"
        )
        self.governed = tuple(governed)


class ChoiceInUse(ClassDefinitionRefused):
    """A choice cannot be removed while documents still to be checked against the current
    definition hold it (declared records keep their own definition and do not count)."""

    http_status = 409
    code = "choice_in_use"

    def __init__(self, value: str, documents: int) -> None:
        super().__init__(
            "choices", value, f"is the value of {documents} document(s) not yet declared"
        )
        self.documents = documents


class ClassRetired(Conflict):
    """A retired class takes no changes and no new documents (its documents keep it)."""

    code = "class_retired"

    def __init__(self, class_code: str) -> None:
        super().__init__(f"document class {class_code!r} is retired")
        self.class_code = class_code
