"""Why a notice could not be delivered: a machine code stored with a technical detail, shown to the
reader as a sentence in their language (the detail stays for whoever fixes the channel).
"""
from __future__ import annotations

import re
import smtplib
from typing import Any

from flask_babel import gettext as _

#: `last_error` of an e-mail notice skipped because its recipient has no address (shown translated).
SKIPPED_NO_EMAIL = "no_email_address"


class DeliveryError(Exception):
    """A send failed; `permanent` ones are not retried (bad configuration).

    Stored as `last_error` = "<code>: <technical detail>": the code says in the reader's language
    what went wrong (`error_text`), the detail (exception, address) stays for whoever fixes it.
    """

    def __init__(self, code: str, detail: str = "", *, permanent: bool = False, **params: Any) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail, self.permanent, self.params = code, detail, permanent, params


def network_code(exc: BaseException) -> str:
    """What kind of network failure `exc` is (for the reader's sentence)."""
    import socket
    import ssl

    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        exc = reason
    if isinstance(exc, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(exc, socket.gaierror):
        return "host_not_found"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(exc, ssl.SSLError):
        return "tls_failed"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "smtp_login_refused"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "smtp_recipient_refused"
    if isinstance(exc, smtplib.SMTPException):
        return "smtp_failed"
    return "connection_failed"


def error_text(last_error: str | None) -> dict[str, str]:
    """A stored delivery error as {"text": a sentence in the reader's language, "detail": the technical part}."""
    if not last_error:
        return {"text": "", "detail": ""}
    code, _sep, detail = last_error.partition(": ")
    status = re.search(r"\bHTTP (\d{3})\b", detail or last_error)
    sentences = {
        "no_smtp_server": _("No mail server is set: give the channel a server, or set MAIL_SERVER."),
        "smtp_failed": _("The mail server refused the message."),
        "smtp_login_refused": _("The mail server refused the channel's user name or password."),
        "smtp_recipient_refused": _("The mail server refused the address."),
        "bad_webhook_url": _("The webhook address is not a full http:// or https:// address."),
        "http_status": _("The receiving server answered with an error (HTTP %(status)s).",
                         status=status.group(1) if status else "?"),
        "connection_refused": _("The receiving server refused the connection: is it running, is the address right?"),
        "host_not_found": _("The receiving server's name was not found: check the address."),
        "timeout": _("The receiving server did not answer in time."),
        "tls_failed": _("The secure (TLS) connection to the receiving server failed."),
        "connection_failed": _("The receiving server could not be reached."),
        "channel_deleted": _("The channel was removed before the notice was sent."),
        "channel_disabled": _("The channel is turned off."),
        "unknown_kind": _("This kind of channel cannot send."),
        "interrupted": _("Sending was interrupted (the process stopped): it may or may not have arrived, so it "
                         "is not sent again by itself. Retry it by hand if needed."),
        SKIPPED_NO_EMAIL: _("No e-mail address on the account: nothing was sent. Add one on the accounts page."),
    }
    if code in sentences:
        return {"text": sentences[code], "detail": detail}
    return {"text": _("Sending failed."), "detail": last_error}
