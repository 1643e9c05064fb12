"""Email over SMTP (smtplib): the message title as subject, its text as a plain-text body; a
patrol report's HTML as the body, with its Markdown as the plain-text alternative."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from .._errors import DeliveryError
from .._messages import Message
from .._routing import ReceiverConfig, Smtp


class EmailReceiver:
    """Hands one mail per message to the SMTP server; 4xx replies and lost connections are
    worth another try, 5xx replies are not."""

    def __init__(self, config: ReceiverConfig, *, timeout: float) -> None:
        assert config.smtp is not None  # the routing file's check
        self._smtp: Smtp = config.smtp
        self._timeout = timeout

    def send(self, message: Message) -> None:
        smtp = self._smtp
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = smtp.sender
        mail["To"] = ", ".join(smtp.to)
        if message.report is None:
            mail.set_content(message.text)
        else:
            mail.set_content(message.report.markdown)
            mail.add_alternative(message.report.html, subtype="html")
        where = f"SMTP {smtp.host}:{smtp.port}"
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=self._timeout) as server:
                if smtp.starttls:
                    server.starttls()
                if smtp.username:
                    server.login(smtp.username, smtp.password or "")
                server.send_message(mail)
        except smtplib.SMTPResponseException as error:
            reply = error.smtp_error
            if isinstance(reply, bytes):
                reply = reply.decode(errors="replace")
            raise DeliveryError(
                f"{where}: {error.smtp_code} {reply}", retryable=400 <= error.smtp_code < 500
            ) from None
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"{where}: recipients refused: {error}", retryable=False) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(
                f"{where}: {error or type(error).__name__}", retryable=True
            ) from None
