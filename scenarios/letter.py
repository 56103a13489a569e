"""Letters: the formal notice, a reminder by post, the statement of open invoices.

A :class:`Letter` holds only text already written in the customer's language (the templates do
the wording); :func:`encours.scenarios.letter_pdf.build_letter_pdf` lays it out with fpdf2, imported only
when a letter is built (a sync never pays for it).  DejaVu Sans (shipped with matplotlib) is embedded,
so accents and the euro sign print everywhere.  The output is deterministic: the same letter
gives the same bytes (the creation date is the letter's date).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

FONT = "DejaVu"
log = logging.getLogger(__name__)
# fontTools (used by fpdf2 to embed fonts) narrates every subsetting at INFO: keep the CLI's log readable.
logging.getLogger("fontTools").setLevel(logging.WARNING)


#: Characters kept in the embedded fonts: Latin (with extensions and accents), Greek, Cyrillic,
#: general punctuation (narrow no-break space, dashes, quotes), €, №, ™, the minus sign and a few symbols.
_UNICODES = [
    *range(0x20, 0x250), *range(0x300, 0x500), *range(0x2000, 0x2070),
    0x20AC, 0x2116, 0x2122, 0x2190, 0x2192, 0x2212, 0x2713, 0x2714, 0x25CF,
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

        kept = hashlib.sha256(repr(_UNICODES).encode()).hexdigest()[:8]  # a new character: a new copy
        stamp = "-".join(f"{p.stat().st_size}" for p in sources) + f"-{kept}"
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
