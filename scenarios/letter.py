"""Letters as PDF (fpdf2): the formal notice, a reminder by post, the statement of open invoices.

A :class:`Letter` holds only text already written in the customer's language (the templates do
the wording); this module only lays it out.  DejaVu Sans (shipped with matplotlib) is embedded,
so accents and the euro sign print everywhere.  The output is deterministic: the same letter
gives the same bytes (the creation date is the letter's date).
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FONT = "DejaVu"
log = logging.getLogger(__name__)
# fontTools (used by fpdf2 to embed fonts) narrates every subsetting at INFO: keep the CLI's log readable.
logging.getLogger("fontTools").setLevel(logging.WARNING)


#: Characters kept in the embedded fonts: Latin (with extensions and accents), Greek, Cyrillic,
#: general punctuation (narrow no-break space, dashes, quotes), €, №, ™ and a few symbols.
_UNICODES = [
    *range(0x20, 0x250), *range(0x300, 0x500), *range(0x2000, 0x2070),
    0x20AC, 0x2116, 0x2122, 0x2190, 0x2192, 0x2713, 0x2714, 0x25CF,
]


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=1)
def font_files() -> tuple[Path, Path]:
    """(regular, bold) DejaVu Sans, reduced once per machine to the characters letters use.

    Parsing the whole font costs ~0.2 s per document; the reduced copy (kept in the temporary
    folder, written atomically) brings a letter down to a few hundredths of a second.
    """
    sources = (_font_dir() / "DejaVuSans.ttf", _font_dir() / "DejaVuSans-Bold.ttf")
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        stamp = "-".join(f"{p.stat().st_size}" for p in sources)
        cache = Path(tempfile.gettempdir()) / f"encours-fonts-{stamp}"
        cache.mkdir(parents=True, exist_ok=True)
        reduced = []
        for source in sources:
            target = cache / source.name
            if not target.exists():
                options = subset.Options()
                options.layout_features = ["*"]
                options.name_IDs = ["*"]
                options.notdef_outline = True
                font = TTFont(str(source))
                subsetter = subset.Subsetter(options)
                subsetter.populate(unicodes=_UNICODES)
                subsetter.subset(font)
                handle, temporary = tempfile.mkstemp(dir=cache, suffix=".ttf")
                os.close(handle)
                font.save(temporary)
                os.replace(temporary, target)
            reduced.append(target)
        return reduced[0], reduced[1]
    except Exception:
        log.debug("font reduction failed; embedding the whole DejaVu Sans", exc_info=True)
        return sources


@dataclass(frozen=True)
class LetterTable:
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    totals: tuple[tuple[str, str], ...] = ()  # (label, value) lines under the table, the last in bold
    widths: tuple[int, ...] = ()  # relative column widths


@dataclass(frozen=True)
class Letter:
    sender: tuple[str, ...]  # name, address lines, identifiers
    recipient: tuple[str, ...]
    place_date: str
    title: str
    subject: str = ""
    mention: str = ""  # e.g. "Lettre recommandée avec accusé de réception"
    opening: str = ""  # paragraphs separated by blank lines
    table: LetterTable | None = None
    closing: str = ""
    signature: tuple[str, ...] = ()
    qr_png: bytes | None = None
    qr_caption: tuple[str, ...] = ()
    footer: str = ""
    letter_date: date | None = None
    extra_tables: tuple[LetterTable, ...] = field(default=())


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
    regular, bold = font_files()
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
