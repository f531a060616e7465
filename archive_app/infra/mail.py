"""Sending one e-mail through the server named by ``ARCHIVE_SMTP_URL``.

Contract: :func:`send` builds a plain-text UTF-8 message (the standard library's
``email.message.EmailMessage``) and hands it to the server with ``smtplib`` (TLS, STARTTLS
and login as the URL says), within ``timeout`` seconds. It raises ``OSError`` /
``smtplib.SMTPException`` when the server cannot be reached or refuses; callers decide
what a failure means. Only background work calls it: never a web request.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from archive_app.infra.config import SmtpTarget

TIMEOUT_SECONDS = 30.0


def send(
    target: SmtpTarget,
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    *,
    timeout: float = TIMEOUT_SECONDS,
) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message.set_content(body)
    client: smtplib.SMTP
    if target.tls:
        client = smtplib.SMTP_SSL(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout)
    with client:
        if target.starttls:
            client.starttls(context=ssl.create_default_context())
        if target.username:
            client.login(target.username, target.password or "")
        client.send_message(message)
