"""The cell formats encours needs, added to a workbook's styles part without disturbing people's.

Cell formats (``xf``) are referred to by position from every worksheet: encours only appends, so
each format a person's cell uses keeps its index.  A format already there is reused.
"""

from __future__ import annotations

from lxml import etree

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_N = "{" + _NS + "}"

#: Built-in number formats Excel knows without declaring them (ECMA-376 18.8.30).
BUILTIN_FORMATS = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%",
                   14: "mm-dd-yy", 22: "m/d/yy h:mm", 49: "@"}
#: Part order in a styles part (CT_Stylesheet): new containers go in their place.
_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
          "tableStyles", "colors", "extLst")


class StyleBook:
    """``xf(number_format, bold, fill)`` → the index of a cell format with exactly that look."""

    def __init__(self, xml: bytes | None) -> None:
        if xml is None:
            xml = (b'<styleSheet xmlns="%s"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font>'
                   b'</fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
                   b'<patternFill patternType="gray125"/></fill></fills><borders count="1"><border/></borders>'
                   b'<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="1"><xf/></cellXfs>'
                   b'</styleSheet>' % _NS.encode())
        self.root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, huge_tree=True))
        self.changed = False
        self._known: dict[str, dict[str, int]] = {}
        self._cache: dict[tuple[str | None, bool, str | None], int] = {}
        self._bold_font: int | None = None
        self._fills: dict[str, int] = {}
        formats = self._child("numFmts", create=False)
        self.formats: dict[int, str] = dict(BUILTIN_FORMATS)
        if formats is not None:
            for item in formats.findall(_N + "numFmt"):
                self.formats[int(item.get("numFmtId", "0"))] = item.get("formatCode", "")
        xfs = self._child("cellXfs")
        self.xf_formats = [self.formats.get(int(xf.get("numFmtId", "0")), "General") for xf in xfs]

    def _child(self, tag: str, *, create: bool = True) -> etree._Element:
        found = self.root.find(_N + tag)
        if found is None and create:
            found = etree.Element(_N + tag)
            later = _ORDER[_ORDER.index(tag) + 1:]
            for index, child in enumerate(self.root):
                if isinstance(child.tag, str) and etree.QName(child).localname in later:
                    self.root.insert(index, found)
                    break
            else:
                self.root.append(found)
        return found

    def _append(self, tag: str, element: etree._Element) -> int:
        """The index of an equal element already there (a format encours added before), else of this one."""
        container = self._child(tag)
        known = self._known.get(tag)
        if known is None:
            known = self._known[tag] = {}
            for index, child in enumerate(container):
                known.setdefault(_key(child), index)
        key = _key(element)
        if key in known:
            return known[key]
        known[key] = len(container)
        container.append(element)
        count = len(container)
        container.set("count", str(count))
        self.changed = True
        return count - 1

    def _number_format_id(self, code: str) -> int:
        for number, known in self.formats.items():
            if known == code:
                return number
        number = max([163, *self.formats]) + 1
        item = etree.Element(_N + "numFmt", numFmtId=str(number), formatCode=code)
        self._append("numFmts", item)
        self.formats[number] = code
        return number

    def _font(self) -> int:
        if self._bold_font is None:
            font = etree.Element(_N + "font")
            etree.SubElement(font, _N + "b")
            etree.SubElement(font, _N + "sz", val="11")
            self._bold_font = self._append("fonts", font)
        return self._bold_font

    def _fill(self, color: str) -> int:
        if color not in self._fills:
            fill = etree.Element(_N + "fill")
            pattern = etree.SubElement(fill, _N + "patternFill", patternType="solid")
            etree.SubElement(pattern, _N + "fgColor", rgb="FF" + color)
            etree.SubElement(pattern, _N + "bgColor", indexed="64")
            self._fills[color] = self._append("fills", fill)
        return self._fills[color]

    def xf(self, number_format: str | None = None, bold: bool = False, fill: str | None = None) -> int:
        """The index of a cell format: ``number_format`` (None: General), bold, a solid fill RRGGBB."""
        key = (number_format, bold, fill)
        if key not in self._cache:
            if key == (None, False, None):
                self._cache[key] = 0
                return 0
            attrs = {"numFmtId": "0", "fontId": "0", "fillId": "0", "borderId": "0", "xfId": "0"}
            if number_format:
                attrs["numFmtId"] = str(self._number_format_id(number_format))
                attrs["applyNumberFormat"] = "1"
            if bold:
                attrs["fontId"] = str(self._font())
                attrs["applyFont"] = "1"
            if fill:
                attrs["fillId"] = str(self._fill(fill))
                attrs["applyFill"] = "1"
            index = self._cache[key] = self._append("cellXfs", etree.Element(_N + "xf", attrs))
            if index == len(self.xf_formats):
                self.xf_formats.append(number_format or "General")
        return self._cache[key]

    def dxf_fill(self, color: str) -> int:
        """A differential format (conditional formatting) filling cells with RRGGBB."""
        dxf = etree.Element(_N + "dxf")
        fill = etree.SubElement(dxf, _N + "fill")
        pattern = etree.SubElement(fill, _N + "patternFill", patternType="solid")
        etree.SubElement(pattern, _N + "fgColor", rgb="FF" + color)
        etree.SubElement(pattern, _N + "bgColor", rgb="FF" + color)
        return self._append("dxfs", dxf)

    def to_bytes(self) -> bytes:
        data: bytes = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8", standalone=True)
        return data


def _key(element: etree._Element) -> str:
    """An element's content without namespace declarations: equal keys, equal formats."""
    if not isinstance(element.tag, str):
        return ""
    attrs = ",".join(f"{k}={v}" for k, v in sorted(element.attrib.items()))
    inner = "".join(_key(child) for child in element)
    return f"<{etree.QName(element).localname} {attrs}>{(element.text or '').strip()}{inner}</>"
