"""The merge plan of a keyed tab, rule by rule, without a spreadsheet (the backends: test_merge_backends)."""

from __future__ import annotations

import pytest

from encours.connectors.errors import SheetError
from encours.sheets_addin.layout import CUSTOMERS, INVOICES
from encours.sheets_addin.merge import FoundRow, plan_table

WANTED = {"I1": ("F-1", "C1"), "I2": ("F-2", "C1"), "I3": ("F-3", "C2")}


@pytest.mark.parametrize(
    ("found", "append", "matched", "restored", "appended", "unknown"),
    [
        # sorted rows: matched where they are, nothing appended
        ([FoundRow(2, "I3"), FoundRow(3, "I1"), FoundRow(4, "I2")], ["I1", "I2", "I3"],
         {"I3": 2, "I1": 3, "I2": 4}, {}, [], []),
        # an erased ID comes back from N° facture + ID client, in its row
        ([FoundRow(2, "I1"), FoundRow(3, "", ("F-2", "C1"))], ["I1", "I2"], {"I1": 2, "I2": 3}, {3: "I2"}, [], []),
        # an erased ID whose key matches nothing: a person's row, left alone; the invoice is appended
        ([FoundRow(2, "", ("F-2", "C9"))], ["I2"], {}, {}, [("I2", 3)], []),
        # two erased rows claiming the same invoice: neither is guessed, the invoice is not appended twice
        ([FoundRow(2, "", ("F-2", "C1")), FoundRow(3, "", ("F-2", "C1"))], ["I2"], {}, {}, [("I2", 4)], []),
        # a row whose ID the ledger forgot is listed as unknown, never moved
        ([FoundRow(5, "OLD")], ["I1"], {}, {}, [("I1", 6)], [("OLD", 5)]),
        # wanted but not shown (a paid invoice off the sheet): not appended
        ([], [], {}, {}, [], []),
    ],
    ids=["sorted", "erased-id", "unknown-key", "ambiguous", "forgotten", "not-shown"],
)
def test_plan_rules(found: list[FoundRow], append: list[str], matched: dict[str, int], restored: dict[int, str],
                    appended: list[tuple[str, int]], unknown: list[tuple[str, int]]) -> None:
    last = max([1, *(f.row for f in found)])
    plan = plan_table(INVOICES, "Factures", found, WANTED, append, last)
    assert (plan.matched, plan.restored, plan.appended, plan.unknown) == (matched, restored, appended, unknown)


def test_a_duplicated_id_names_tab_id_and_both_rows() -> None:
    with pytest.raises(SheetError) as error:
        plan_table(CUSTOMERS, "Clients", [FoundRow(4, "C1"), FoundRow(9, "C1")], {"C1": ()}, ["C1"], 9)
    message = str(error.value)
    assert "Clients" in message and "'C1'" in message and "rows 4 and 9" in message and "ID client" in message
