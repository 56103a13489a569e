"""Who a reminder goes to: the e-mail recipients (``Email relance`` first, else the customer's own
addresses, else its billing contacts; invalid addresses dropped and reported), the copies the
company asks for, and the language the customer is written to in."""

from __future__ import annotations

import re

from encours.connectors.model import Customer
from encours.scenarios.actions import Recipients
from encours.scenarios.company import CompanySettings
from encours.scenarios.loader import LANGUAGES

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def valid_email(address: str) -> bool:
    """A plain ``local@domain`` address: no display name, no spaces, no CR/LF (header-safe)."""
    return len(address) <= 254 and bool(_EMAIL.match(address))


def split_addresses(text: str) -> list[str]:
    return [a.strip() for a in re.split(r"[;,\s]+", text or "") if a.strip()]


_BILLING_ROLE = re.compile(r"compta|account|billing|factur|boekhoud|financ|payable|tr[ée]sor", re.IGNORECASE)


def _contact_emails(customer: Customer) -> list[str]:
    """When the customer has no address of its own: its billing contacts, else its first contact."""
    with_email = [c for c in customer.contacts if c.email]
    billing = [c.email for c in with_email if _BILLING_ROLE.search(c.role or "")]
    return billing or [c.email for c in with_email[:1]]


def reminder_recipients(
    customer: Customer, cmarks_email: str, company: CompanySettings
) -> tuple[Recipients, list[str]]:
    """E-mail recipients: ``Email relance`` first, else the customer's addresses; invalid ones dropped."""
    raw = split_addresses(cmarks_email) if cmarks_email.strip() else list(customer.emails) or _contact_emails(customer)
    to: list[str] = []
    rejected: list[str] = []
    for address in raw:
        (to if valid_email(address) else rejected).append(address)
    cc: tuple[str, ...] = ()
    if company.cc_salesperson and customer.salesperson_email and valid_email(customer.salesperson_email):
        cc = (customer.salesperson_email,)
    bcc = tuple(a for a in split_addresses(company.bcc) if valid_email(a))
    reply_to = company.reply_to if valid_email(company.reply_to) else ""
    return Recipients(tuple(dict.fromkeys(to)), cc, bcc, reply_to, customer.phone, customer.address), rejected


def reminder_language(customer: Customer, company: CompanySettings) -> str:
    language = (customer.language or "").strip().lower()[:2]
    return language if language in LANGUAGES else (company.language if company.language in LANGUAGES else "fr")
