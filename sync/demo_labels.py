"""The words of ``encours demo --days``: what the simulated person types in the workbook (French,
like the sheet) and the narration of the lived days (English, like the command's output) — so
:mod:`encours.sync.demo_life` only simulates."""

from __future__ import annotations

#: What the person types: comments, and the outcomes of calls in ``À faire``'s ``Résultat``
#: (read back by :func:`encours.sync.task_outcomes.parse_result`).
DEMO_TYPED_FR = {
    "dispute_comment": "Conteste la livraison (appel du client)",
    "plan_line": "Échéancier accordé au téléphone",
    "plan_comment": "Appel : échéancier en 3 fois accordé",
    "promise": "promesse {day:%d/%m/%Y}",
    "unreachable": "injoignable",
}

#: The narration, by key; ``{placeholders}`` filled by :func:`demo_text`.
DEMO_TEXT = {
    "day": "Day {n}/{days}: {day:%d/%m/%Y}",
    "lived": "Lived {first:%d/%m/%Y} → {last:%d/%m/%Y} ({days} days)",
    "messages": "  {step}: {count}",
    "collected": ("  Cash collected: {collected:,.2f} EUR, of which {after_reminder:,.2f} within {within} days "
                  "of a reminder"),
    "dso": "  DSO (90 days): {before} days before, {after} days after",
    "no_dso": "—",
    "event": "  {event}",
    "dispute_typed": "{day:%d/%m}: dispute typed on {number}",
    "call_typed": "{day:%d/%m}: call outcome typed — {what} for {numbers} (À faire {task}: « {result} »)",
    "plan_typed": "{day:%d/%m}: payment plan typed for {number}",
    "approved": "{day:%d/%m}: « À envoyer » ticked for {number} ({action})",
    "collection": ("{day:%d/%m}: {customer} handed to collection (case file {file}): no more amicable "
                   "reminders"),
    "exit_code": "{day:%d/%m}: pass ended with exit code {code}",
}


def demo_text(key: str, **values: object) -> str:
    """One of :data:`DEMO_TEXT`, its placeholders filled."""
    return DEMO_TEXT[key].format(**values)


def demo_typed(key: str, **values: object) -> str:
    """One of :data:`DEMO_TYPED_FR`, its placeholders filled."""
    return DEMO_TYPED_FR[key].format(**values)
