"""Turn the extraction library's suggestions into values for our class fields.

The result is stored on the document as ``{"class": {...}, "title": {...}, "fields":
{field name: {"value", "confidence", "snippet", "label"}}}``; the UI marks them as
suggestions and the archivist accepts or corrects them.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from indexing.extract.suggest import Suggestion, Suggestions
from indexing.text import levenshtein

_SIGN = re.compile(r"签订|签署|签约|订立|sign|dated|date of agreement", re.IGNORECASE)
_END = re.compile(r"终止|到期|届满|截止|有效期至|end|expir|until|terminat", re.IGNORECASE)
_INVOICE_DATE = re.compile(r"开票|invoice date|date of issue|issue date", re.IGNORECASE)
_TAX = re.compile(r"税额|tax|vat", re.IGNORECASE)
_TOTAL = re.compile(r"价税合计|合计|总计|total|amount due|金额", re.IGNORECASE)


def _entry(suggestion: Suggestion | None) -> dict[str, Any] | None:
    if suggestion is None:
        return None
    entry = {
        "value": suggestion.value,
        "confidence": round(suggestion.confidence, 2),
        "snippet": suggestion.snippet[:200],
        "label": suggestion.label,
    }
    if suggestion.problems:
        # Why the confidence is lower, as codes and figures: the page says it in the reader's language.
        entry["problems"] = [{"code": p.code, "data": p.as_dict()} for p in suggestion.problems]
    return entry


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
    named = found.fields
    candidates: dict[str, Suggestion | None] = {
        "counterparty": found.counterparty,
        "contract_number": found.contract_number,
        "sign_date": named.get("sign_date") or _labelled(dates, _SIGN) or first_date,
        "end_date": named.get("end_date") or _labelled(dates, _END),
        # 金额 of an invoice is before tax; a contract's amount is its total.
        "amount": named.get("net") or named.get("contract_amount") or named.get("total") or total,
        "invoice_code": found.invoice_code,
        "invoice_number": found.invoice_number,
        "invoice_date": named.get("invoice_date") or _labelled(dates, _INVOICE_DATE) or first_date,
        "tax": named.get("tax") or tax,
        "total": named.get("total"),
        "check_code": named.get("check_code"),
        "voucher_number": named.get("voucher_number"),
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
        # Every party the text names (buyer, seller, party A/B), with its tax ID when found:
        # the misfiling check compares them with the archive's customer.
        "parties": [
            {**(_entry(party) or {}), "role": party.field, "tax_id": party.tax_id}
            for party in found.parties
        ],
    }


_LEGAL_FORMS = re.compile(
    r"有限责任公司|股份有限公司|有限公司|公司|co\.?,?\s*ltd\.?|ltd\.?|inc\.?|gmbh|llc|co\.?",
    re.IGNORECASE,
)


def _bare_name(name: str) -> str:
    """A company name without spaces, punctuation and legal form, for comparison."""
    name = unicodedata.normalize("NFKC", name).lower()
    return "".join(c for c in _LEGAL_FORMS.sub("", name) if c.isalnum())


def same_party(name: str, tax_id: str, other_name: str, other_tax_id: str = "") -> bool:
    """Whether two mentions name the same company: equal tax IDs, or names equal apart from
    legal form and a few OCR misreadings (at most one character in five differs)."""
    if tax_id and other_tax_id:
        return tax_id.upper() == other_tax_id.upper()
    a, b = _bare_name(name), _bare_name(other_name)
    if not a or not b:
        return False
    if a in b or b in a:
        return min(len(a), len(b)) >= 2
    return levenshtein(a, b) <= max(len(a), len(b)) // 5


def names_another_customer(suggestions: dict[str, Any], archive: Any) -> str | None:
    """The company a document names although it is not the archive's customer (misfiling),
    or None: when no party was found, or one of them is the customer."""
    parties = [p for p in suggestions.get("parties") or [] if p.get("value")]
    if not parties:
        return None
    customer_tax_id = getattr(archive, "tax_id", "") or ""
    if any(
        same_party(p["value"], p.get("tax_id") or "", archive.name, customer_tax_id)
        for p in parties
    ):
        return None
    counterparty = (suggestions.get("fields") or {}).get("counterparty")
    return str(counterparty["value"] if counterparty else parties[0]["value"])
