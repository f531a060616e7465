"""How a downloaded file is named to the browser or client (``Content-Disposition``)."""

from __future__ import annotations

from urllib.parse import quote


def attachment(filename: str, *, inline: bool) -> str:
    """An ASCII fallback name and the exact UTF-8 name (RFC 6266)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
