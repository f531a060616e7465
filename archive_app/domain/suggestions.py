"""Turn the extraction library's suggestions into values for our class fields.

The result is stored on the document as ``{"class": {...}, "title": {...}, "fields":
{field name: {"value", "confidence", "snippet", "label"}}}``; the UI marks them as
suggestions and the archivist accepts or corrects them.
"""

from __future__ import annotations

import re
from typing import Any

from indexing.extract.suggest import Suggestion, Suggestions

_SIGN = re.compile(r"签订|签署|签约|订立|sign|dated|date of agreement", re.IGNORECASE)
_END = re.compile(r"终止|到期|届满|截止|有效期至|end|expir|until|terminat", re.IGNORECASE)
_INVOICE_DATE = re.compile(r"开票|invoice date|date of issue|issue date", re.IGNORECASE)
_TAX = re.compile(r"税额|tax|vat", re.IGNORECASE)
_TOTAL = re.compile(r"价税合计|合计|总计|total|amount due|金额", re.IGNORECASE)


def _entry(suggestion: Suggestion | None) -> dict[str, Any] | None:
    if suggestion is None:
        return None
    return {
        "value": suggestion.value,
        "confidence": round(suggestion.confidence, 2),
        "snippet": suggestion.snippet[:200],
        "label": suggestion.label,
    }


def _labelled(items: tuple[Suggestion, ...], pattern: re.Pattern[str]) -> Suggestion | None:
    for item in items:
        if item.label and pattern.search(item.label):
            return item
    return None


def _amount(items: tuple[Suggestion, ...], pattern: re.Pattern[str]) -> Suggestion | None:
    labelled = [item for item in items if item.label and pattern.search(item.label)]
    if labelled:
        return max(labelled, key=lambda item: float(item.value))
    return None


def field_suggestions(found: Suggestions) -> dict[str, dict[str, Any]]:
    dates = found.dates
    amounts = found.amounts
    first_date = dates[0] if dates else None
    tax = _amount(amounts, _TAX)
    total = _amount(tuple(a for a in amounts if a is not tax), _TOTAL) or (
        max(amounts, key=lambda item: float(item.value)) if amounts else None
    )
    candidates: dict[str, Suggestion | None] = {
        "counterparty": found.counterparty,
        "contract_number": found.contract_number,
        "sign_date": _labelled(dates, _SIGN) or first_date,
        "end_date": _labelled(dates, _END),
        "amount": total,
        "invoice_code": found.invoice_code,
        "invoice_number": found.invoice_number,
        "invoice_date": _labelled(dates, _INVOICE_DATE) or first_date,
        "tax": tax,
        "document_date": first_date,
    }
    fields = {name: entry for name, s in candidates.items() if (entry := _entry(s)) is not None}
    if first_date is not None:
        fields["fiscal_period"] = {**fields["document_date"], "value": first_date.value[:7]}
    return fields


def to_document_suggestions(found: Suggestions) -> dict[str, Any]:
    return {
        "class": _entry(found.document_class),
        "title": _entry(found.title),
        "fields": field_suggestions(found),
    }
