"""The words people type in ``À faire``'s ``Résultat`` (French, folded: lower case, no accents) —
parsing data read by :mod:`encours.sync.task_outcomes`, not text encours writes (that lives in
:mod:`encours.sync.task_labels`)."""

from __future__ import annotations

#: Outcome kind → the words that name it.  Order matters: "rappeler … promesse" is a call back,
#: "paiement promis" a promise.
RESULT_KEYWORDS_FR: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("call_back", ("rappeler", "rappel le", "a rappeler", "recontacter", "rappelle")),
    ("promise", ("promesse", "promis", "promet", "s'engage", "engagement")),
    ("dispute", ("litige", "conteste", "contestation", "reclamation", "desaccord")),
    ("unreachable", ("injoignable", "pas de reponse", "ne repond pas", "repondeur", "messagerie",
                     "absent", "nrp", "sans reponse", "occupe", "numero errone", "faux numero")),
    ("paid", ("paye", "payee", "paiement effectue", "deja regle", "regle", "reglee", "vire",
              "virement effectue", "virement fait", "cheque envoye", "cheque poste")),
)

#: Month names and their abbreviations → month number ("15 déc.", "1er janvier 2027").
MONTHS_FR = {
    "janv": 1, "jan": 1, "fevr": 2, "fev": 2, "mars": 3, "mar": 3, "avr": 4, "avril": 4, "mai": 5, "juin": 6,
    "juil": 7, "juillet": 7, "aout": 8, "sept": 9, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    "janvier": 1, "fevrier": 2, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}
#: The suffix of a first day ("1er décembre").
FIRST_DAY_SUFFIX_FR = "er"

#: Days said in words: Monday first.
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
TOMORROW_FR = "demain"
#: "dans 3 jours" (a regular expression; its group is the number of days).
IN_DAYS_FR = r"dans (\d{1,3}) jours?"
