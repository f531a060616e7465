"""Typed SQLAlchemy 2.0 models. Import from here; each module holds one concept."""

from archive_app.models.api_token import ApiToken
from archive_app.models.archive import CustomerArchive, CustomerConsent, CustomerTag
from archive_app.models.audit import AuditEntry, AuditHead
from archive_app.models.base import Base
from archive_app.models.catalogue import DocumentNote, DocumentTag, SavedSearch
from archive_app.models.checklist import (
    ChecklistLine,
    ChecklistState,
    DocumentVersion,
    PaperLocationMove,
)
from archive_app.models.document import Document, DocumentStatus
from archive_app.models.document_class import DocumentClass, DocumentClassVersion
from archive_app.models.inspection import InspectionRun, InspectionState, InspectionTrigger
from archive_app.models.login_session import LoginSession
from archive_app.models.pending_object import PendingObject
from archive_app.models.retention import (
    DestructionCertificate,
    DestructionPlan,
    DestructionRecord,
    DispositionBatch,
    ErasureRequest,
    LegalHold,
    LegalHoldTarget,
    NotificationRead,
    RetentionEvent,
    RetentionNotification,
    RetentionRuleVersion,
    UnsettledClaim,
)
from archive_app.models.sequence import NumberSequence
from archive_app.models.user import User
from archive_app.models.worker import Worker, WorkerKind
from archive_app.models.year_end import YearEndReview

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Base",
    "ChecklistLine",
    "ChecklistState",
    "CustomerArchive",
    "CustomerConsent",
    "CustomerTag",
    "DestructionCertificate",
    "DestructionPlan",
    "DestructionRecord",
    "DispositionBatch",
    "Document",
    "DocumentClass",
    "DocumentClassVersion",
    "DocumentNote",
    "DocumentStatus",
    "DocumentTag",
    "DocumentVersion",
    "ErasureRequest",
    "InspectionRun",
    "InspectionState",
    "InspectionTrigger",
    "LegalHold",
    "LegalHoldTarget",
    "LoginSession",
    "NotificationRead",
    "NumberSequence",
    "PaperLocationMove",
    "PendingObject",
    "RetentionEvent",
    "RetentionNotification",
    "RetentionRuleVersion",
    "SavedSearch",
    "UnsettledClaim",
    "User",
    "Worker",
    "WorkerKind",
    "YearEndReview",
]
