"""What the reading of a document asks a person to look at, for the document page, the
filing checklist and the CLI: pages that read (nearly) empty, and a document that names a
company other than the archive's customer (misfiling).

Contract: ``reading_warnings(container, document)`` returns ``ReadingWarning`` items, empty
for most documents. The flags live on the row (``unreadable_pages``, ``misfiling_suspected``);
the name the document gives is document text, kept in the encrypted reading, and is decrypted
here only for a flagged document.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive_app.domain.reading import load_reading
from archive_app.domain.suggestions import names_another_customer
from archive_app.infra.container import Container
from archive_app.models import Document


@dataclass(frozen=True)
class ReadingWarning:
    code: str  # "unreadable_page" or "misfiling"
    page: int | None = None
    named: str = ""  # the company the document names (misfiling)
    archive: str = ""  # the archive's customer (misfiling)

    def __str__(self) -> str:
        if self.code == "unreadable_page":
            return f"page {self.page} has no readable text"
        return f"this document names {self.named}, but the archive is {self.archive}"

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "page": self.page, "named": self.named, "message": str(self)}


def reading_warnings(container: Container, document: Document) -> list[ReadingWarning]:
    warnings = [ReadingWarning("unreadable_page", page=n) for n in document.unreadable_pages or []]
    if document.misfiling_suspected and document.text_object_id:
        raw = container.store.read_bytes(document.archive.storage_id, document.text_object_id)
        named = names_another_customer(load_reading(raw).suggestions, document.archive)
        if named:
            warnings.append(ReadingWarning("misfiling", named=named, archive=document.archive.name))
    return warnings
