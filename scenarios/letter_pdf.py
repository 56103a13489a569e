"""A :class:`~encours.scenarios.letter.Letter` laid out on A4 pages by fpdf2 (DejaVu Sans embedded)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

import encours.scenarios.letter as letters
from encours.scenarios.letter import FONT, Letter, LetterTable


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7)
        self.set_text_color(110, 110, 110)
        text = f"{self.footer_text}   {self.page_no()}/{{nb}}" if self.footer_text else f"{self.page_no()}/{{nb}}"
        self.cell(0, 5, text, align="C")
        self.set_text_color(0, 0, 0)


def _paragraphs(pdf: FPDF, text: str, size: float = 10) -> None:
    pdf.set_font(FONT, "", size)
    for block in [b.strip() for b in text.replace("\r\n", "\n").split("\n\n")]:
        if not block:
            continue
        pdf.multi_cell(0, 5, block, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2.5)


def _table(pdf: FPDF, table: LetterTable) -> None:
    pdf.set_font(FONT, "", 8.5)
    widths = table.widths or tuple(1 for _ in table.headings)
    aligns = ["LEFT"] + ["RIGHT" if i >= 3 else "CENTER" for i in range(1, len(table.headings))]
    with pdf.table(
        col_widths=widths,
        text_align=tuple(aligns),
        line_height=5,
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        first_row_as_headings=True,
    ) as grid:
        header = grid.row()
        for heading in table.headings:
            header.cell(heading)
        for values in table.rows:
            row = grid.row()
            for value in values:
                row.cell(value)
    pdf.set_font(FONT, "", 9.5)
    for index, (label, value) in enumerate(table.totals):
        bold = index == len(table.totals) - 1
        pdf.set_font(FONT, "B" if bold else "", 9.5)
        pdf.cell(130, 5.5, label, align="R")
        pdf.cell(0, 5.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def build_letter_pdf(letter: Letter) -> bytes:
    """Lay the letter out on A4 pages and return the PDF's bytes."""
    regular, bold = letters.font_files()  # looked up on the module: benchmarks swap it
    pdf = _Pdf(format="A4", unit="mm")
    pdf.footer_text = letter.footer
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    when = letter.letter_date or date(2000, 1, 1)
    pdf.set_creation_date(datetime(when.year, when.month, when.day, tzinfo=UTC))
    pdf.set_title(letter.title)
    pdf.set_author(letter.sender[0] if letter.sender else "")
    pdf.set_creator("encours")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    pdf.set_font(FONT, "B", 10)
    for index, line in enumerate(letter.sender):
        if index == 1:
            pdf.set_font(FONT, "", 9)
        pdf.cell(0, 4.6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(FONT, "", 10)
    for line in letter.recipient:
        pdf.set_x(112)
        pdf.cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_x(112)
    pdf.cell(0, 5, letter.place_date, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    if letter.mention:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(0, 5, letter.mention, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 14)
    pdf.ln(2)
    pdf.multi_cell(0, 7, letter.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    if letter.subject:
        pdf.set_font(FONT, "B", 10)
        pdf.multi_cell(0, 5, letter.subject, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)
    _paragraphs(pdf, letter.opening)
    for table in (letter.table, *letter.extra_tables):
        if table is not None:
            _table(pdf, table)
    _paragraphs(pdf, letter.closing)
    if letter.signature:
        pdf.ln(4)
        pdf.set_font(FONT, "", 10)
        for line in letter.signature:
            pdf.set_x(112)
            pdf.cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if letter.qr_png:
        if pdf.get_y() > 240:
            pdf.add_page()
        pdf.ln(6)
        top = pdf.get_y()
        pdf.image(letter.qr_png, x=20, y=top, w=32, h=32)
        pdf.set_font(FONT, "", 8.5)
        pdf.set_xy(56, top + 2)
        for line in letter.qr_caption:
            pdf.set_x(56)
            pdf.multi_cell(0, 4.4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(max(pdf.get_y(), top + 34))
    return bytes(pdf.output())
