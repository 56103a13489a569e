"""The reference maths: KPIs, interest, scores, forecast — what a user reads in the sheet."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from encours.connectors.demo import demo_ledger
from encours.connectors.model import Allocation, Customer, Invoice, InvoiceStatus, Ledger, Money, Payment
from encours.sheets_addin import functions as fn
from encours.sheets_addin import rates

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "bench"))
import loop_reference as ref  # the row-by-row reference, also the vectors' oracle

D = Decimal
AS_OF = date(2026, 11, 23)


# -- aging (the API others call) -----------------------------------------------------------------


def test_existing_aging_api_still_answers_the_same() -> None:
    assert fn.days_past_due(date(2026, 11, 1), AS_OF) == 22
    assert fn.aging_bucket(0) == "Non échu" and fn.aging_bucket(30) == "1-30" and fn.aging_bucket(91) == "> 90"
    assert fn.bucket_labels((15, 45)) == ["Non échu", "1-15", "16-45", "> 45"]
    due = pd.Series([date(2026, 11, 23), None, date(2026, 8, 1)])
    days = fn.days_past_due_series(due, AS_OF)
    assert days.iloc[0] == 0 and pd.isna(days.iloc[1]) and days.iloc[2] == 114
    assert list(fn.aging_bucket_series(days)) == ["Non échu", None, "> 90"]


# -- KPIs ------------------------------------------------------------------------------------------


def test_countback_dso_of_the_product_example_is_73_7_days() -> None:
    assert fn.dso_countback(D(212000), [D(100000), D(80000), D(70000)]) == D("73.7")


def test_countback_skips_months_without_sales_and_caps_at_the_months_given() -> None:
    assert fn.dso_countback(D(50), [D(0), D(100)]) == D("45.0")
    assert fn.dso_countback(D(500), [D(100), D(100)]) == D("60.0")
    assert fn.dso_countback(D(0), [D(100)]) == D("0.0")
    with pytest.raises(ValueError):
        fn.dso_countback(D(1), [D(1), D(2)], [30])


def test_simple_and_best_dso_and_add() -> None:
    assert fn.dso_simple(D(150000), D(300000), 90) == D("45.0")
    assert fn.best_possible_dso(D(100000), D(300000), 90) == D("30.0")
    assert fn.average_days_delinquent(D(150000), D(100000), D(300000), 90) == D("15.0")
    assert fn.dso_simple(D(1), D(0), 90) is None


def test_rounding_of_days_is_half_up_from_exact_cents() -> None:
    # 1 ÷ 4 × 90 × 10 = 225 tenths exactly; 0.05 is a tie rounded up
    assert fn.dso_simple(D("0.01"), D("0.04"), 9) == D("2.3")
    assert fn.dso_simple(D("-0.01"), D("0.04"), 9) == D("-2.3")


def test_cei_is_100_when_everything_due_was_collected() -> None:
    assert fn.collection_effectiveness(D(50000), D(100000), D(30000), D(30000)) == D("100.0")
    assert fn.collection_effectiveness(D(50000), D(100000), D(60000), D(30000)) == D("75.0")
    assert fn.collection_effectiveness(D(0), D(0), D(0), D(0)) is None


def _ledger() -> Ledger:
    customers = (Customer("C1", "Alpha", "t"), Customer("C2", "Beta", "t"))

    def inv(number: str, customer: str, issued: date, due: date, total: str, remaining: str,
            status: InvoiceStatus = InvoiceStatus.OPEN, currency: str = "EUR", kind: str = "invoice") -> Invoice:
        from encours.connectors.model import DocumentKind

        return Invoice(number, number, customer, "t", issued, due, Money(D(total), currency),
                       Money(D(remaining), currency), kind=DocumentKind(kind), status=status)

    invoices = (
        inv("A1", "C1", AS_OF - timedelta(120), AS_OF - timedelta(90), "1000", "0", InvoiceStatus.PAID),
        inv("A2", "C1", AS_OF - timedelta(60), AS_OF - timedelta(30), "2000", "500", InvoiceStatus.PARTIALLY_PAID),
        inv("A3", "C1", AS_OF - timedelta(10), AS_OF + timedelta(20), "3000", "3000"),
        inv("B1", "C2", AS_OF - timedelta(100), AS_OF - timedelta(70), "4000", "4000"),
        inv("B2", "C2", AS_OF - timedelta(20), AS_OF + timedelta(10), "500", "500", kind="credit_note"),
        inv("B3", "C2", AS_OF - timedelta(5), AS_OF + timedelta(25), "800", "800", currency="GBP"),
    )
    payments = (
        Payment("P1", "C1", "t", AS_OF - timedelta(80), Money(D(1000)), (Allocation("A1", Money(D(1000))),)),
        Payment("P2", "C1", "t", AS_OF - timedelta(25), Money(D(1500)), (Allocation("A2", Money(D(1500))),)),
    )
    return Ledger(customers, invoices, payments)


def test_ledger_kpis_follow_the_stated_choices() -> None:
    k = fn.ledger_kpis(_ledger(), AS_OF)
    # receivables: EUR remaining, credit note negative, the GBP one without a converted amount left out
    assert k.receivables == D("500") + D("3000") + D("4000") - D("500")
    assert k.current == D("3000") - D("500")
    # sales of the last 90 days, EUR documents: A2 + A3 − B2
    assert k.credit_sales == D("2000") + D("3000") - D("500")
    assert k.monthly_sales == (D("2500"), D("0"), D("2000"))  # A2 issued 60 days ago: the third month
    # opening: documents issued before the start (A1, B1) owed then: 1000 (paid after the start) + 4000
    assert k.opening == D("5000")
    assert k.dso == fn.dso_simple(k.receivables, k.credit_sales, 90)
    assert k.cei == fn.collection_effectiveness(D(5000), k.credit_sales, k.receivables, k.current)


# -- interest --------------------------------------------------------------------------------------


def test_french_rate_is_ecb_plus_ten_by_half_year() -> None:
    table = rates.load_rates()
    assert table.for_day(date(2025, 3, 1)).statutory("FR") == D("13.15")
    assert table.for_day(date(2025, 9, 1)).statutory("FR") == D("12.15")
    assert table.for_day(date(2026, 2, 1)).statutory("FR") == D("12.15")
    assert table.for_day(date(2025, 9, 1)).statutory("BE") == D("10.50")
    assert table.for_day(date(2024, 9, 1)).statutory("BE") == D("12.50")
    assert table.for_day(date(2025, 2, 1)).statutory("BE") == D("11.50")
    assert table.for_day(date(2026, 8, 1)).carried_forward
    assert table.for_day(date(2027, 2, 1)).carried_forward  # beyond the table: the last rate, flagged


def test_belgian_rate_rounds_up_to_the_next_half_point() -> None:
    entry = rates.HalfYearRate(date(2030, 1, 1), ecb=D("2.15"))
    assert entry.statutory("BE") == D("10.50")
    assert rates.HalfYearRate(date(2030, 1, 1), ecb=D("2.50")).statutory("BE") == D("10.50")
    assert rates.HalfYearRate(date(2030, 1, 1), ecb=D("2.51")).statutory("BE") == D("11.00")


def test_interest_period_is_split_at_the_half_year() -> None:
    result = rates.late_interest(D("1000"), date(2025, 6, 15), date(2025, 7, 15), "FR")
    assert [(p.days, p.rate) for p in result.parts] == [(15, D("13.15")), (15, D("12.15"))]
    # 1000 × (13.15 % × 15 + 12.15 % × 15) ÷ 365 = 10.3972… → 10.40
    assert result.interest == D("10.40")
    assert result.indemnity == D("40.00") and result.days == 30


def test_no_interest_nor_indemnity_when_paid_on_time_or_for_a_credit_note() -> None:
    on_time = rates.late_interest(D("1000"), date(2025, 6, 15), date(2025, 6, 15))
    assert on_time.interest == 0 and on_time.indemnity == 0
    credit = rates.late_interest(D("-1000"), date(2025, 6, 15), date(2025, 9, 15))
    assert credit.interest == 0 and credit.indemnity == 0
    assert rates.recovery_indemnity(D("10"), date(2025, 1, 1), date(2025, 1, 2)) == D("40.00")


def test_contract_rate_is_floored_at_three_times_the_legal_rate_in_france() -> None:
    low = rates.late_interest(D("36500"), date(2025, 1, 1), date(2025, 1, 11), "FR", contract_rate=D("5"))
    assert low.parts[0].rate == 3 * D("3.71")
    high = rates.late_interest(D("36500"), date(2025, 1, 1), date(2025, 1, 11), "FR", contract_rate=D("20"))
    assert high.parts[0].rate == D("20") and high.interest == D("200.00")


def test_a_user_rate_file_overrides_the_shipped_table(tmp_path: Path) -> None:
    own = tmp_path / "taux.toml"
    own.write_text('[[half_year]]\nstart = 2026-07-01\necb = "2.40"\nlegal_fr = "2.50"\n', encoding="utf-8")
    table = rates.load_rates(own)
    entry = table.for_day(date(2026, 9, 1))
    assert entry.statutory("FR") == D("12.40") and not entry.carried_forward
    assert table.for_day(date(2025, 3, 1)).statutory("FR") == D("13.15")


def test_a_bad_rate_file_names_the_file_and_the_entry(tmp_path: Path) -> None:
    own = tmp_path / "taux.toml"
    own.write_text('[[half_year]]\nstart = 2026-03-01\necb = "2.40"\n', encoding="utf-8")
    with pytest.raises(rates.RateTableError, match=r"taux\.toml: half_year #1: start"):
        rates.load_rates(own)
    own.write_text('[[half_year]]\nstart = 2026-07-01\necb = "beaucoup"\n', encoding="utf-8")
    with pytest.raises(rates.RateTableError, match="ecb"):
        rates.load_rates(own)
    with pytest.raises(rates.RateTableError, match="no late-payment rate for 2020-01-02"):
        rates.late_interest(D("100"), date(2020, 1, 1), date(2020, 2, 1))


# -- scores ----------------------------------------------------------------------------------------


def _history(rows: Sequence[tuple[str, int, int, int | None]]) -> pd.DataFrame:
    """rows: (customer, due offset from AS_OF, cents, paid offset or None)."""
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "due_date": pd.to_datetime([AS_OF + timedelta(r[1]) for r in rows]),
            "amount_cents": [r[2] for r in rows],
            # through an Index: pandas-stubs does not take None (NaT) in a plain list of dates
            "paid_on": pd.to_datetime(pd.Index([None if r[3] is None else AS_OF + timedelta(r[3]) for r in rows])),
        }
    )


def test_good_payer_is_a_and_chronic_late_payer_is_d_with_a_reason() -> None:
    rows: list[tuple[str, int, int, int | None]] = [("good", -30 * i, 10000, -30 * i - 2) for i in range(1, 10)]
    rows += [("late", -30 * i, 10000, -30 * i + 60) for i in range(3, 12)]
    rows += [("late", -40, 10000, None)]
    table = fn.payer_scores(_history(rows), AS_OF)
    assert table.loc["good", "profile"] == "A" and table.loc["good", "score"] == 100
    reason = table.loc["good", "reason"]
    assert isinstance(reason, str) and reason.startswith("Paie à l'heure")
    assert table.loc["late", "profile"] == "D"
    assert "retard moyen de 60 j" in table.loc["late", "reason"].lower()
    assert table.loc["late", "avg_delay"] == 60


def test_little_history_gives_a_neutral_flagged_score() -> None:
    table = fn.payer_scores(_history([("new", -10, 5000, -12)]), AS_OF, customers=["new", "none"])
    assert table.loc["new", "flagged"] and table.loc["none", "flagged"]
    assert table.loc["none", "score"] == 60 and table.loc["none", "profile"] == "B"
    assert table.loc["none", "reason"] == "Peu d'historique (0 paiement) : score neutre"


def test_disputes_broken_promises_and_overdue_lower_the_score() -> None:
    rows = [("c", -30 * i, 10000, -30 * i) for i in range(1, 10)]
    base = fn.payer_scores(_history(rows), AS_OF).loc["c", "score"]
    worse = fn.payer_scores(_history(rows), AS_OF, disputes={"c": 1}, broken_promises={"c": 2}).loc["c"]
    assert base == 100 and worse["score"] == 100 - 5 - 20
    assert worse["reason"] == "2 promesses non tenues ; 1 litige"
    overdue = fn.payer_scores(_history([*rows, ("c", -5, 10000, None)]), AS_OF).loc["c", "score"]
    assert overdue == 85


def test_a_worsening_trend_costs_points() -> None:
    steady = [("c", -400 + 30 * i, 10000, -400 + 30 * i + 10) for i in range(12)]
    worse = [("c", -400 + 30 * i, 10000, -400 + 30 * i + (10 if i < 9 else 40)) for i in range(12)]
    a = fn.payer_scores(_history(steady), AS_OF).loc["c"]
    b = fn.payer_scores(_history(worse), AS_OF).loc["c"]
    assert a["trend"] == 0 and b["trend"] > 0 and b["score"] < a["score"]


def test_customer_figures_of_the_demo_ledger() -> None:
    ledger = demo_ledger(AS_OF)
    figures = fn.customer_figures(ledger, AS_OF)
    assert set(figures) == {c.id for c in ledger.customers}
    for fig in figures.values():
        assert fig.score is not None and 0 <= fig.score <= 100
        assert fig.profile == fn.profile_for(fig.score) and fig.reason
    profiles = {f.profile for f in figures.values()}
    assert {"A", "D"} <= profiles  # the demo has on-time and chronic payers


def test_average_payment_delay_is_amount_weighted() -> None:
    lines = [(date(2025, 1, 1), date(2025, 1, 11), D("300")), (date(2025, 1, 1), date(2025, 1, 1), D("100"))]
    assert fn.average_payment_delay(lines) == 7.5
    assert fn.average_payment_delay([]) is None


# -- cash forecast -----------------------------------------------------------------------------------


def test_weekly_forecast_shifts_each_invoice_by_its_customer_delay() -> None:
    invoices, _ = fn.ledger_frames(_ledger())
    forecast = fn.weekly_cash_forecast(invoices, AS_OF, {"C1": 7.0, "C2": 0.0}, weeks=4)
    assert forecast.weeks[0] == date(2026, 11, 23)  # a Monday
    # overdue A2 (500) and B1 (4000) are expected now; B2 (−500) in 10 days; A3 (3000) in 20 + 7 days
    assert forecast.amounts == (D("4500.00"), D("-500.00"), D("0.00"), D("3000.00"))
    assert forecast.later == D("0.00")


def test_weekly_forecast_takes_a_payment_on_account_off_the_invoices_expected_first() -> None:
    """Money already received is no receipt to expect: Alpha's 2,000 € on account covers its 500 €
    expected now and 1,500 € of the 3,000 € expected in four weeks; Beta's credit larger than what it
    owes leaves nothing expected from it (a refund is not a receipt)."""
    from dataclasses import replace

    from encours.connectors.model import UnallocatedCredit

    ledger = _ledger()
    credits = (UnallocatedCredit("on-1", "C1", "t", AS_OF - timedelta(3), Money(D("2000"))),
               UnallocatedCredit("on-2", "C2", "t", AS_OF - timedelta(3), Money(D("9000"))))
    ledger = replace(ledger, credits=credits)
    invoices, _ = fn.ledger_frames(ledger)
    forecast = fn.weekly_cash_forecast(invoices, AS_OF, {"C1": 7.0, "C2": 0.0}, weeks=4,
                                       credits=fn.credit_frame(ledger))
    assert forecast.amounts == (D("0.00"), D("-500.00"), D("0.00"), D("1500.00"))
    assert forecast.later == D("0.00")


def test_the_default_table_can_come_with_the_users_file(tmp_path: Path) -> None:
    own = tmp_path / "taux.toml"
    own.write_text('[[half_year]]\nstart = 2026-07-01\necb = "2.65"\nlegal_fr = "2.60"\n', encoding="utf-8")
    try:
        rates.use_rates_file(own)
        result = rates.late_interest(D("36500"), date(2026, 8, 1), date(2026, 8, 11))
        assert result.parts[0].rate == D("12.65") and not result.carried_forward
    finally:
        rates.use_rates_file(None)
    assert rates.late_interest(D("36500"), date(2026, 8, 1), date(2026, 8, 11)).carried_forward


def test_sync_figures_give_the_figures_and_the_kpis_in_one_pass() -> None:
    ledger = demo_ledger(AS_OF)
    figures, kpis = fn.sync_figures(ledger, AS_OF)
    assert figures == fn.customer_figures(ledger, AS_OF)
    assert kpis == fn.ledger_kpis(ledger, AS_OF)
    assert kpis.opening > 0 and kpis.cei is not None


# -- properties: the vectorised functions equal the row-by-row reference on any data ------------------

_lines = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.integers(-900, 120),  # due, days from AS_OF
        st.integers(-50_000, 2_000_000),  # cents
        st.one_of(st.none(), st.integers(-10, 200)),  # paid, days after due
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(_lines, st.integers(0, 3), st.integers(0, 3))
def test_payer_scores_equal_the_row_by_row_reference(lines: list[tuple[str, int, int, int | None]], disputes: int,
                                                     broken: int) -> None:
    rows = [(c, AS_OF + timedelta(d), cents, None if p is None else AS_OF + timedelta(d + p))
            for c, d, cents, p in lines]
    history = pd.DataFrame({
        "customer_id": [r[0] for r in rows],
        "due_date": pd.to_datetime([r[1] for r in rows]),
        "amount_cents": pd.array([r[2] for r in rows], dtype="int64"),
        "paid_on": pd.to_datetime(pd.Index([r[3] for r in rows])),  # None (NaT) is not in the stubs' list types
    })
    table = fn.payer_scores(history, AS_OF, customers=["A", "B", "C"], disputes={"A": disputes},
                            broken_promises={"B": broken})
    expected = ref.scores(rows, AS_OF, ["A", "B", "C"], {"A": disputes}, {"B": broken})
    for customer, want in expected.items():
        got = table.loc[customer]
        assert (int(got["score"]), got["profile"], got["reason"]) == (want["score"], want["profile"], want["reason"])
        if want["avg_delay"] is None:
            assert pd.isna(got["avg_delay"])
        else:
            assert got["avg_delay"] == want["avg_delay"]


@settings(max_examples=150, deadline=None)
@given(st.integers(-10_000, 10_000_000), st.integers(0, 2000), st.integers(-30, 700), st.sampled_from(["FR", "BE"]))
def test_interest_equals_the_day_by_day_reference(cents: int, start: int, length: int, country: str) -> None:
    due = date(2021, 1, 1) + timedelta(start)
    paid = due + timedelta(length)
    got = rates.late_interest(D(cents) / 100, due, paid, country).interest
    want = ref.interest(Fraction(cents, 100), due, paid, country, ref.load_rate_rows())
    assert got == D(want.numerator) / D(want.denominator)
