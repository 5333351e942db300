"""E-mail: the message of a notification (title and number only; the system is the record) and
the transports a worker sends through, chosen by ``CASEWORK_SMTP_URL``:

- ``smtp://[user:password@]host[:port]`` (``?starttls=1`` to upgrade, login when a user is given),
- ``smtps://…`` (TLS from the start),
- ``file:///directory`` (one ``.eml`` file per message: the demo's local sink).
"""
from __future__ import annotations

import smtplib
import ssl
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from casework.notifications.labels import kind_label, step_label

TEMPORARY = "temporary"
PERMANENT = "permanent"


class DeliveryError(Exception):
    """A message was not accepted; ``kind`` says whether trying again may help."""

    def __init__(self, reason: str, kind: str):
        super().__init__(reason)
        self.reason = reason[:500]
        self.kind = kind


def build_message(notification, address: str, locale: str) -> MIMEText:
    """The mail of one notification in the recipient's language (Chinese by default)."""
    with force_locale(locale or "zh"):
        subject = gettext("[Casework] %(what)s: %(number)s", what=kind_label(notification.kind),
                          number=notification.number)
        body = render_template("notifications/mail.txt", items=[notification], **_helpers())
    return _message(address, subject, body)


def build_digest(notifications: list, address: str, locale: str) -> MIMEText:
    """One mail listing a day's notifications."""
    with force_locale(locale or "zh"):
        subject = gettext("[Casework] %(count)d notifications today", count=len(notifications))
        body = render_template("notifications/mail.txt", items=notifications, **_helpers())
    return _message(address, subject, body)


def _helpers() -> dict:
    return {"link": public_link, "kind_label": kind_label, "step_label": step_label}


def public_link(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _message(address: str, subject: str, body: str) -> MIMEText:
    """A plain-text UTF-8 message (the classic email API: headers are not re-parsed, which keeps a
    worker's sending rate up)."""
    message = MIMEText(body, "plain", "utf-8")
    message["From"] = formataddr(("Casework", current_app.config["MAIL_FROM"]))
    message["To"] = address
    message["Subject"] = Header(subject, "utf-8")
    message["Message-ID"] = make_msgid(domain="casework")
    return message


def transport_for(url: str, timeout: float = 10.0):
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileTransport(Path(unquote(parts.path)))
    if parts.scheme in ("smtp", "smtps"):
        return SmtpTransport(parts, timeout)
    raise ValueError(f"CASEWORK_SMTP_URL: unknown scheme {parts.scheme!r} (smtp, smtps or file)")


class FileTransport:
    """Writes each message to ``directory`` as an .eml file (for the demo and development)."""

    def __init__(self, directory: Path):
        self.directory = directory

    def __enter__(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc) -> None:
        return None

    def send(self, message: MIMEText) -> None:
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        (self.directory / f"{name}.eml").write_bytes(bytes(message))


class SmtpTransport:
    """One SMTP connection for a batch, reopened when the server drops it."""

    def __init__(self, parts, timeout: float):
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.tls = parts.scheme == "smtps"
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else ""
        self.timeout = timeout
        self.connection: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.tls:
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                connection.starttls(context=context)
        if self.user:
            connection.login(self.user, self.password)
        return connection

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None

    def send(self, message: MIMEText) -> None:
        """Send one message; raises ``DeliveryError`` (temporary for 4xx and connection trouble,
        permanent for 5xx)."""
        try:
            if self.connection is None:
                self.connection = self._connect()
            refused = self.connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            code, answer = next(iter(error.recipients.values()))
            raise DeliveryError(_answer(code, answer), _kind(code)) from error
        except smtplib.SMTPResponseException as error:
            self.close()
            raise DeliveryError(_answer(error.smtp_code, error.smtp_error), _kind(error.smtp_code)) from error
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise DeliveryError(f"{type(error).__name__}: {error}", TEMPORARY) from error
        if refused:
            code, answer = next(iter(refused.values()))
            raise DeliveryError(_answer(code, answer), _kind(code))


def _answer(code: int, answer) -> str:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return f"{code} {text}"


def _kind(code: int) -> str:
    return PERMANENT if 500 <= code < 600 else TEMPORARY

