"""Email through an SMTP server (aiosmtplib): ``SMTP_HOST`` and its port, login and security.

``SMTP_SECURITY``: ``starttls`` (port 587, the default), ``tls`` (implicit TLS, port 465) or
``none`` (a relay on the same machine or network, and the tests' local server). The mailer
answers the Message-ID it gave the message, or raises :class:`ProviderError`: ``retry`` for a
temporary answer (4xx) or an unreachable server, not for a permanent refusal (5xx).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

import aiosmtplib

from nuanxin.notifications.refusal import ProviderError
from nuanxin.settings import Settings

__all__ = ("Email", "Mailer", "mailer")

TIMEOUT_SECONDS = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Email:
    to: str
    subject: str
    body: str
    language: str = "zh"


class Mailer:
    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, email: Email) -> str:
        settings = self._settings
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Content-Language"] = "zh-CN" if email.language == "zh" else "en"
        domain = parseaddr(settings.mail_from)[1].rpartition("@")[2]
        message_id = make_msgid(domain=domain or None)
        message["Message-ID"] = message_id
        message.set_content(email.body)
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username or None,
                password=settings.smtp_password or None,
                use_tls=settings.smtp_security == "tls",
                start_tls=settings.smtp_security == "starttls",
                timeout=TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refusal.code for refusal in exc.recipients]
            raise ProviderError(
                f"smtp recipient refused {codes}", retry=all(400 <= c < 500 for c in codes)
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise ProviderError(f"smtp {exc.code}", retry=400 <= exc.code < 500) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise ProviderError(f"smtp unreachable: {type(exc).__name__}", retry=True) from None
        return message_id


def mailer(settings: Settings) -> Mailer | None:
    """The SMTP mailer, or None when ``SMTP_HOST`` is not set."""
    return Mailer(settings) if settings.smtp_host else None
