"""Email over SMTP (smtplib): the message title as subject, its text as a plain-text body; a
patrol report's HTML as the body, with its Markdown as the plain-text alternative. A receiver
``to: oncall`` mails an escalation step to the email contacts of the people it reaches."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from .._errors import DeliveryError
from .._messages import Message
from .._routing import ONCALL, ReceiverConfig, Smtp


class EmailReceiver:
    """Hands one mail per message to the SMTP server; 4xx replies and lost connections are
    worth another try, 5xx replies are not."""

    def __init__(self, config: ReceiverConfig, *, timeout: float) -> None:
        assert config.smtp is not None  # the routing file's check
        self._smtp: Smtp = config.smtp
        self._timeout = timeout

    def send(self, message: Message) -> None:
        smtp = self._smtp
        to = _addresses(smtp, message)
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = smtp.sender
        mail["To"] = ", ".join(to)
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


def _addresses(smtp: Smtp, message: Message) -> list[str]:
    if smtp.to != ONCALL:
        return smtp.to
    found = message.page.contacts("email") if message.page else []
    if not found:
        # Nobody to mail: trying again cannot help; the chain's next step escalates.
        raise DeliveryError("nobody on call has an email address", retryable=False)
    return found
