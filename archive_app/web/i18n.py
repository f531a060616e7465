"""Language choice: the user's own choice first, then the browser's, then the default."""

from __future__ import annotations

from flask import request, session
from flask_login import current_user

from archive_app.infra.config import SUPPORTED_LANGUAGES
from archive_app.web.context import services

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> str:
    if current_user.is_authenticated and current_user.language in SUPPORTED_LANGUAGES:
        return current_user.language
    chosen = session.get("language")
    if chosen in SUPPORTED_LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    if best in ("zh", "zh_CN"):
        return "zh_CN"
    if best == "en":
        return "en"
    return services().settings.default_language
