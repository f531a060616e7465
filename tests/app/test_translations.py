"""Every user-visible string has a Chinese translation, and the compiled catalogue that
ships matches its source."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "archive_app" / "translations" / "zh" / "LC_MESSAGES"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "_l": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
}
METHODS = [("archive_app/**.py", "python"), ("templates/**.html", "jinja2")]


def _source_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("archive_app", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python"), ("**.html", "jinja2")],
            keywords=KEYWORDS,
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _key(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _value(string: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    return string if isinstance(string, str) else tuple(string)


def test_every_message_is_translated() -> None:
    with open(CATALOGUE / "messages.po", "rb") as handle:
        catalogue = read_po(handle)
    translated = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalogue
        if message.id
        and message.string
        and (isinstance(message.string, str) or all(message.string))
    }
    missing = sorted(_source_messages() - translated)
    assert missing == [], f"untranslated (run scripts/translations and fill them in): {missing}"


def test_compiled_catalogue_matches_the_source() -> None:
    with open(CATALOGUE / "messages.po", "rb") as handle:
        source = {_key(m.id): _value(m.string) for m in read_po(handle) if m.id}
    compiled = {
        _key(m.id): _value(m.string)
        for m in read_mo(BytesIO((CATALOGUE / "messages.mo").read_bytes()))
        if m.id
    }
    assert compiled == source, "messages.mo is stale: run scripts/translations"
