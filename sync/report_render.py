"""The weekly report rendered: PNG charts (matplotlib, Agg), an HTML e-mail with the charts
inline (``cid:``, which common mail clients show; no external images, no scripts), a plain-text
alternative, and a PDF (fpdf2, DejaVu fonts shipped with matplotlib for the € sign and accents).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import jinja2
import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from encours.connectors.model import to_cents
from encours.connectors.registries.signals import fr_date
from encours.sync.report import WeeklyReport
from encours.sync.report_labels import METHOD_NOTE, SECTIONS_FR, outcome_text, report_text

TEMPLATES = Path(__file__).parent / "templates" / "report"
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
COLOURS = ("#3a7d44", "#e0b000", "#e07b00", "#d1495b", "#8b1e3f")
CHART_IDS = ("trend", "aging", "forecast")


# -- formatting (French) ------------------------------------------------------------------------
def eur(amount: Decimal | None) -> str:
    """12 345,67 € (narrow no-break space between thousands)."""
    if amount is None:
        return "—"
    text = f"{to_cents(amount):,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0€"


def signed_eur(amount: Decimal) -> str:
    return ("+" if amount > 0 else "") + eur(amount)


def days(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",") + "\u00a0j"


def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",") + "\u00a0%"


def change(current: Decimal, previous: Decimal) -> str:
    """'+1 234,00 € (+3,2 %) sur 7 jours' — the trend against a week earlier."""
    delta = current - previous
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "="
    rate = ""
    if previous:
        rate = f" ({(delta / previous * 100):+.1f}\u00a0%)".replace(".", ",")
    return report_text("change", arrow=arrow, delta=signed_eur(delta), rate=rate)


def short_day(day: date) -> str:
    return day.strftime("%d/%m")


# -- charts -------------------------------------------------------------------------------------
def _figure(width: float = 6.4, height: float = 2.6) -> Figure:
    figure = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.subplots_adjust(left=0.11, right=0.98, top=0.88, bottom=0.13)  # fixed: tight_layout is slow
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _k(value: float) -> str:
    return f"{value / 1000:,.0f}\u202fk€".replace(",", "\u202f") if abs(value) >= 1000 else f"{value:,.0f}\u202f€"


def charts(report: WeeklyReport) -> dict[str, bytes]:
    """PNG images: ``trend`` (outstanding and overdue, 8 weeks), ``aging``, ``forecast`` (8 weeks)."""
    from matplotlib.ticker import FuncFormatter

    money = FuncFormatter(lambda value, _pos: _k(value))
    out: dict[str, bytes] = {}

    figure = _figure()
    axes = figure.add_subplot()
    xs = [short_day(p.day) for p in report.history]
    axes.plot(xs, [float(p.outstanding) for p in report.history], marker="o", color="#1f4e79",
              label=report_text("outstanding"))
    axes.plot(xs, [float(p.overdue) for p in report.history], marker="o", color=COLOURS[3],
              label=report_text("overdue"))
    axes.set_title(report_text("trend_chart"), fontsize=10)
    axes.yaxis.set_major_formatter(money)
    axes.tick_params(labelsize=8)
    axes.legend(fontsize=8, frameon=False)
    axes.grid(axis="y", alpha=0.3)
    out["trend"] = _png(figure)

    figure = _figure()
    axes = figure.add_subplot()
    labels = [label for label, _ in report.aging]
    values = [float(amount) for _, amount in report.aging]
    bars = axes.bar(labels, values, color=COLOURS[: len(labels)])
    for bar, value in zip(bars, values, strict=True):
        axes.annotate(_k(value), (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                      va="bottom", fontsize=7)
    axes.set_title(report_text("aging_chart"), fontsize=10)
    axes.yaxis.set_major_formatter(money)
    axes.tick_params(labelsize=8)
    axes.grid(axis="y", alpha=0.3)
    out["aging"] = _png(figure)

    figure = _figure()
    axes = figure.add_subplot()
    weeks = [short_day(w) for w in report.forecast.weeks]
    amounts = [float(a) for a in report.forecast.amounts]
    axes.bar(weeks, amounts, color="#1f4e79")
    axes.set_title(report_text("forecast_chart"), fontsize=10)
    axes.yaxis.set_major_formatter(money)
    axes.tick_params(labelsize=8)
    axes.grid(axis="y", alpha=0.3)
    out["forecast"] = _png(figure)
    return out


# -- HTML and text ------------------------------------------------------------------------------
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(eur=eur, days=days, percent=percent, fr_date=fr_date, short_day=short_day,
                       zip=lambda left, right: list(zip(left, right, strict=True)))
    env.globals.update(change=change, method=METHOD_NOTE, settled=outcome_text("settled"))
    return env


def kpi_rows(report: WeeklyReport) -> list[tuple[str, str, str]]:
    """(label, value, comment) — the figures table shared by the e-mail, the text and the PDF."""
    k = report.kpis
    previous = report.previous
    return [
        (report_text("kpi_receivables"), eur(k.receivables), change(k.receivables, previous.outstanding)),
        (report_text("kpi_overdue"), eur(k.overdue), change(k.overdue, previous.overdue)),
        (report_text("kpi_current"), eur(k.current), ""),
        *([(report_text("kpi_unallocated"), eur(k.unallocated), report_text("kpi_unallocated_note"))]
          if k.unallocated else []),
        (report_text("kpi_dso"), days(k.dso),
         report_text("kpi_dso_note", days=k.period_days, countback=days(k.dso_countback))),
        (report_text("kpi_best_dso"), days(k.best_dso), report_text("kpi_best_dso_note")),
        (report_text("kpi_add"), days(k.add), report_text("kpi_add_note")),
        (report_text("kpi_cei"), percent(k.cei), report_text("kpi_cei_note", days=k.period_days)),
    ]


def render_html(report: WeeklyReport, cids: dict[str, str]) -> str:
    return _environment().get_template("report.html.j2").render(
        r=report, kpis=kpi_rows(report), cids=cids, reminders=reminders_sentence(report),
        outcomes=outcomes_summary(report)
    )


def render_text(report: WeeklyReport) -> str:
    return _environment().get_template("report.txt.j2").render(
        r=report, kpis=kpi_rows(report), reminders=reminders_sentence(report), outcomes=outcomes_summary(report)
    )


# -- PDF ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Fonts:
    regular: Path = FONT_DIR / "DejaVuSans.ttf"
    bold: Path = FONT_DIR / "DejaVuSans-Bold.ttf"


def render_pdf(report: WeeklyReport, images: dict[str, bytes]) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # font subsetting chatter

    fonts = _Fonts()
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_font("DejaVu", "", str(fonts.regular))
    pdf.add_font("DejaVu", "B", str(fonts.bold))
    pdf.set_title(report.title)
    pdf.set_creator("encours")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str) -> None:
        if pdf.get_y() > pdf.h - 45:  # never a heading alone at the foot of a page
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(width, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("DejaVu", "", 9)

    def table(headings: tuple[str, ...], rows: Sequence[tuple[str, ...]], widths: tuple[float, ...],
              align: tuple[str, ...]) -> None:
        if not rows:
            pdf.set_font("DejaVu", "", 9)
            pdf.cell(width, 6, report_text("none"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        with pdf.table(col_widths=widths, text_align=align, line_height=5, first_row_as_headings=True,
                       headings_style=_headings_style()) as grid:
            head = grid.row()
            for text in headings:
                head.cell(text)
            for values in rows:
                row = grid.row()
                for text in values:
                    row.cell(text)

    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(width, 9, report.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 9)
    subtitle = report.company + (" — " if report.company else "") + report_text("customers", count=report.customers)
    pdf.cell(width, 5, subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    heading(SECTIONS_FR["kpis"][0])
    table(SECTIONS_FR["kpis"][1], [tuple(r) for r in kpi_rows(report)], (45, 35, 100),
          ("LEFT", "RIGHT", "LEFT"))
    for chart in CHART_IDS:
        if chart in images:
            if pdf.get_y() > pdf.h - 80:
                pdf.add_page()
            pdf.image(io.BytesIO(images[chart]), w=width * 0.85)

    heading(SECTIONS_FR["forecast"][0])
    forecast_rows = [(report_text("week_of", day=fr_date(w)), eur(a)) for w, a in zip(report.forecast.weeks,
                                                                          report.forecast.amounts, strict=True)]
    forecast_rows.append((report_text("later"), eur(report.forecast.later)))
    table(SECTIONS_FR["forecast"][1], forecast_rows, (90, 50), ("LEFT", "RIGHT"))

    heading(SECTIONS_FR["aging"][0])
    aging_rows = [(label, eur(amount)) for label, amount in report.aging]
    aging_rows.append((report_text("total"), eur(sum((a for _, a in report.aging), Decimal(0)))))
    table(SECTIONS_FR["aging"][1], aging_rows, (90, 50), ("LEFT", "RIGHT"))

    heading(SECTIONS_FR["late_payers"][0])
    table(
        SECTIONS_FR["late_payers"][1],
        [(p.name, p.salesperson, eur(p.overdue), eur(p.outstanding), report_text("days_late", days=p.oldest_days),
          "" if p.score is None else report_text("score", score=p.score, profile=p.profile))
         for p in report.late_payers],
        (50, 30, 28, 28, 22, 22),
        ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
    )

    heading(SECTIONS_FR["promises"][0])
    table(SECTIONS_FR["promises"][1],
          [(fr_date(p.day), p.customer, p.number, eur(p.remaining)) for p in report.promises],
          (25, 75, 40, 40), ("LEFT", "LEFT", "LEFT", "RIGHT"))
    if report.broken_promises:
        heading(SECTIONS_FR["broken"][0])
        table(SECTIONS_FR["broken"][1],
              [(fr_date(p.day), p.customer, p.number, eur(p.remaining)) for p in report.broken_promises],
              (25, 75, 40, 40), ("LEFT", "LEFT", "LEFT", "RIGHT"))

    heading(SECTIONS_FR["disputes"][0])
    table(SECTIONS_FR["disputes"][1],
          [(d.customer, d.number, fr_date(d.due_date), eur(d.remaining), d.comment) for d in report.disputes],
          (50, 30, 25, 30, 45), ("LEFT", "LEFT", "LEFT", "RIGHT", "LEFT"))

    heading(SECTIONS_FR["outcomes"][0])
    pdf.multi_cell(width, 5, outcomes_summary(report), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if report.outcomes:
        table(SECTIONS_FR["outcomes"][1],
              [(fr_date(o.day), o.customer, o.invoices, o.what,
                outcome_text("settled") if o.settled else eur(o.still_owed), o.note) for o in report.outcomes],
              (22, 34, 30, 42, 24, 28), ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "LEFT"))

    heading(SECTIONS_FR["reminders"][0])
    rem = report.reminders
    if rem.known:
        pdf.multi_cell(width, 5, reminders_sentence(report), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.multi_cell(width, 5, report_text("no_journal"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    heading(SECTIONS_FR["risks"][0])
    table(SECTIONS_FR["risks"][1],
          [(r.name, r.what, fr_date(r.day), eur(r.outstanding), r.action) for r in report.risks],
          (38, 58, 20, 26, 38), ("LEFT", "LEFT", "LEFT", "RIGHT", "LEFT"))
    for risk in report.risks:
        if risk.link:
            pdf.set_font("DejaVu", "", 7)
            caption = report_text("risk_link", name=risk.name, link=risk.link)
            pdf.cell(width, 4, caption, link=risk.link, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    if report.notes:
        heading(SECTIONS_FR["notes"][0])
        for note in report.notes:
            pdf.multi_cell(width, 5, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 7)
    pdf.ln(2)
    pdf.multi_cell(width, 4, METHOD_NOTE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _headings_style() -> object:
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD", fill_color=(230, 236, 245))


def reminders_sentence(report: WeeklyReport) -> str:
    rem = report.reminders
    if not rem.known:
        return report_text("no_journal")
    channels = ", ".join(f"{count} {name}" for name, count in rem.by_channel)
    week = report_text("sent_week", count=rem.sent_this_week, s=_plural(rem.sent_this_week),
                       channels=report_text("channels", channels=channels) if channels else "")
    effect = report_text("effect", count=rem.sent_in_window, s=_plural(rem.sent_in_window),
                         have="a" if rem.sent_in_window == 1 else "ont", amount=eur(rem.brought_in),
                         paid=rem.invoices_paid, paid_s=_plural(rem.invoices_paid))
    return report_text("reminders", week=week, effect=effect)


#: The order of the outcomes in the summary line.
_OUTCOME_ORDER = ("promise", "paid", "call_back", "unreachable", "dispute", "dispute_lifted", "done")


def outcomes_summary(report: WeeklyReport) -> str:
    """"2 promesses, 1 injoignable, 1 litige ouvert." — or that nothing was recorded this week."""
    if not report.outcomes:
        return outcome_text("none")
    counts: dict[str, int] = {}
    for outcome in report.outcomes:
        kind = outcome.kind if outcome.kind in _OUTCOME_ORDER else "done"
        counts[kind] = counts.get(kind, 0) + 1
    parts = [outcome_text(f"summary_{kind}", count=counts[kind], s=_plural(counts[kind]))
             for kind in _OUTCOME_ORDER if kind in counts]
    return outcome_text("summary", parts=", ".join(parts))


def _plural(count: int) -> str:
    return "" if count == 1 else "s"
