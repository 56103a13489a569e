"""A local stand-in for the Google Sheets v4 REST API, so tests run the real gspread code over real HTTP.

It answers, with Google's response shapes, the endpoints encours and gspread use:
``GET spreadsheets/{id}``, ``POST spreadsheets/{id}:batchUpdate`` (addSheet, deleteSheet,
updateSheetProperties, appendDimension, insertDimension, deleteDimension, updateDimensionProperties,
repeatCell, setDataValidation, sortRange, add/update/delete protected ranges, filter views,
conditional format rules and developer metadata, updateSpreadsheetProperties), and
``values`` get / batchGet / update / batchUpdate / append / clear / batchClear.

The sheet lives in memory.  ``valueInputOption`` is honoured: RAW keeps every string as text;
USER_ENTERED turns ``=...`` into a formula and number- or date-looking text into numbers.  JSON
``null`` in written values skips the cell, as Google does.  Formulas are stored, moved and
re-referenced like Google does when rows are sorted, inserted or deleted, but never computed (a
formula cell reads back empty unless ``valueRenderOption=FORMULA``).

For tests it counts requests and bytes, can answer the next requests with 429/5xx (optionally with
``Retry-After``), and runs hooks before a request so that a "person" can edit the sheet between the
sync's read and its write (``person_*`` methods edit the in-memory sheet directly).
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Formula:
    text: str


class _Answer(Exception):
    """Answer at once with the payload already set (the token endpoint)."""


class ApiError(Exception):
    def __init__(self, code: int, message: str, status: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


# -- A1 notation ------------------------------------------------------------------------------
def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def quote_title(title: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title):
        return title
    return "'" + title.replace("'", "''") + "'"


_CELL = re.compile(r"^\$?([A-Z]*)\$?(\d*)$")

_REF = re.compile(
    r"""
    (?P<str>"(?:[^"]|"")*")
  | (?<![\w$.])
    (?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?
    (?:
        (?P<colrange>(?P<ca>\$?)(?P<cola>[A-Z]{1,3}):(?P<cb>\$?)(?P<colb>[A-Z]{1,3}))(?![\w(])
      | (?P<cell>(?P<cd>\$?)(?P<col>[A-Z]{1,3})(?P<rd>\$?)(?P<row>\d+))(?![\w(])
    )
    """,
    re.VERBOSE,
)


def _sheet_of(token: str | None, own: str) -> str:
    if not token:
        return own
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    return token


RefFn = Callable[[str, str, bool, int | None, bool], tuple[str, int | None]]


def rewrite_refs(text: str, own_sheet: str, fn: RefFn) -> str:
    """Apply ``fn(sheet, col_letters, col_abs, row_or_None, row_abs) -> (col, row)`` to every reference."""

    def sub(match: re.Match[str]) -> str:
        if match.group("str"):
            return match.group(0)
        prefix = (match.group("sheet") + "!") if match.group("sheet") else ""
        sheet = _sheet_of(match.group("sheet"), own_sheet)
        if match.group("colrange"):
            a, _ = fn(sheet, match.group("cola"), bool(match.group("ca")), None, False)
            b, _ = fn(sheet, match.group("colb"), bool(match.group("cb")), None, False)
            return f"{prefix}{match.group('ca')}{a}:{match.group('cb')}{b}"
        col, row = fn(sheet, match.group("col"), bool(match.group("cd")), int(match.group("row")),
                      bool(match.group("rd")))
        return f"{prefix}{match.group('cd')}{col}{match.group('rd')}{row}"

    return _REF.sub(sub, text)


_TEXT = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'')
_SHEET_REF = re.compile(r"(?<![\w'])([^\W\d][\w.]*)!")
_FUNCTION = re.compile(r"([A-Za-z][A-Za-z0-9.]*)\(")


def google_render(text: str) -> str:
    """A formula re-rendered the way the Sheets API may hand it back: sheet names quoted, function
    names in capitals, spaces outside text dropped (text in quotes kept as it is)."""
    out, last = [], 0
    for match in _TEXT.finditer(text):
        out.append(_render_part(text[last:match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_render_part(text[last:]))
    return "".join(out)


def _render_part(part: str) -> str:
    part = "".join(part.split())
    part = _SHEET_REF.sub(lambda m: f"'{m.group(1)}'!", part)
    return _FUNCTION.sub(lambda m: m.group(1).upper() + "(", part)


def shift_relative(text: str, own_sheet: str, dr: int, dc: int) -> str:
    """A formula copied dr rows down and dc columns right (``$`` parts stay)."""

    def fn(sheet: str, col: str, col_abs: bool, row: int | None, row_abs: bool) -> tuple[str, int | None]:
        new_col = col if col_abs or row is None else col_letters(max(0, col_index(col) + dc))
        new_row = row if row is None or row_abs else max(1, row + dr)
        return new_col, new_row

    return rewrite_refs(text, own_sheet, fn)


# -- the model -------------------------------------------------------------------------------
@dataclass
class FakeSheet:
    sheet_id: int
    title: str
    index: int
    row_count: int = 1000
    column_count: int = 26
    frozen_rows: int = 0
    rows: list[list[Any]] = field(default_factory=list)
    protected_ranges: list[dict[str, Any]] = field(default_factory=list)
    filter_views: list[dict[str, Any]] = field(default_factory=list)
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    developer_metadata: list[dict[str, Any]] = field(default_factory=list)
    formats: list[dict[str, Any]] = field(default_factory=list)  # repeatCell userEnteredFormat, in order
    validations: list[dict[str, Any]] = field(default_factory=list)  # setDataValidation, in order
    dimensions: list[dict[str, Any]] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)

    def cell(self, r: int, c: int) -> Any:
        if r < len(self.rows) and c < len(self.rows[r]):
            return self.rows[r][c]
        return None

    def set(self, r: int, c: int, value: Any) -> None:
        while len(self.rows) <= r:
            self.rows.append([])
        row = self.rows[r]
        if c >= len(row):
            if value is None:
                return
            row.extend([None] * (c + 1 - len(row)))
        row[c] = value

    def properties(self) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.column_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        return {"sheetId": self.sheet_id, "title": self.title, "index": self.index, "sheetType": "GRID",
                "gridProperties": grid}

    def resource(self) -> dict[str, Any]:
        out: dict[str, Any] = {"properties": self.properties()}
        for key, value in (("protectedRanges", self.protected_ranges), ("filterViews", self.filter_views),
                           ("conditionalFormats", self.conditional_formats),
                           ("developerMetadata", self.developer_metadata), ("charts", self.charts)):
            if value:
                out[key] = copy.deepcopy(value)
        return out


@dataclass
class FakeSpreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[FakeSheet] = field(default_factory=list)
    developer_metadata: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1000

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def sheet(self, title: str | None = None, sheet_id: int | None = None) -> FakeSheet:
        for sheet in self.sheets:
            if (title is not None and sheet.title == title) or (sheet_id is not None and sheet.sheet_id == sheet_id):
                return sheet
        if title is not None:
            raise ApiError(400, f"Unable to parse range: {quote_title(title)}")
        raise ApiError(400, f"No grid with id: {sheet_id}")

    def reindex(self) -> None:
        for i, sheet in enumerate(self.sheets):
            sheet.index = i


@dataclass
class Recorded:
    method: str
    path: str
    bytes_in: int
    bytes_out: int
    status: int
    query: dict[str, list[str]]
    body: Any


class FakeSheetsServer:
    """``with FakeSheetsServer() as server:`` — ``server.base_url`` is the api_base_url to use."""

    def __init__(self, spreadsheet_id: str = "sheet-1", title: str = "Encours test") -> None:
        self.lock = threading.RLock()
        self.book = FakeSpreadsheet(spreadsheet_id, title)
        self.book.sheets.append(FakeSheet(0, "Feuille 1", 0))
        self.requests: list[Recorded] = []
        self.faults: list[tuple[int, float | None, str]] = []  # (status, retry_after, methods "GET"/"WRITE"/"")
        self.google_rendering = False  # store formulas re-rendered, as Google returns them
        self.lost_answers: list[tuple[int, str]] = []  # (status, path part): applied, then answered as failed
        self.hooks: list[Callable[[str, str], None]] = []
        self.read_only = False
        self.require_token = ""  # when set, requests must carry "Authorization: Bearer <token>"
        self.issued_token = "token-from-fake-oauth"  # what POST /token (a service account's JWT grant) returns
        self.token_grants: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> FakeSheetsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # answers go out as two writes (headers, body): without this, Nagle's algorithm and
                # delayed ACKs add 40 ms to every request
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                server._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- test controls --------------------------------------------------------------------
    def fail_next(self, status: int, count: int = 1, *, retry_after: float | None = None, methods: str = "") -> None:
        """Answer the next ``count`` matching requests with ``status`` (methods: "", "GET" or "WRITE")."""
        with self.lock:
            self.faults.extend([(status, retry_after, methods)] * count)

    def lose_answer(self, status: int, path_contains: str) -> None:
        """Apply the next request whose path holds ``path_contains``, then answer ``status`` as if it failed
        (what a client sees when Google's answer is lost after the change was made)."""
        with self.lock:
            self.lost_answers.append((status, path_contains))

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()

    def count(self, *, method: str = "", path_contains: str = "", ok_only: bool = True) -> int:
        return sum(
            1 for r in self.requests
            if (not method or r.method == method) and path_contains in r.path and (not ok_only or r.status < 400)
        )

    @property
    def bytes_in(self) -> int:
        return sum(r.bytes_in for r in self.requests)

    def sheet(self, title: str) -> FakeSheet:
        return self.book.sheet(title)

    def titles(self) -> list[str]:
        return [s.title for s in self.book.sheets]

    def grid(self, title: str, *, formulas: bool = True) -> list[list[Any]]:
        """The tab's cells: formula text for formulas (or None when ``formulas`` is False)."""
        with self.lock:
            sheet = self.book.sheet(title)
            out = []
            for row in sheet.rows:
                out.append([(c.text if formulas else None) if isinstance(c, Formula) else c for c in row])
            return out

    def records(self, title: str, header_row: int = 1) -> list[dict[str, Any]]:
        grid = self.grid(title)
        if len(grid) < header_row:
            return []
        header = grid[header_row - 1]
        out = []
        for i, row in enumerate(grid[header_row:], start=header_row + 1):
            record = {str(h): (row[j] if j < len(row) else None) for j, h in enumerate(header) if h}
            record["_row"] = i
            out.append(record)
        return out

    def value(self, title: str, a1: str) -> Any:
        sheet = self.book.sheet(title)
        m = _CELL.match(a1)
        assert m
        cell = sheet.cell(int(m.group(2)) - 1, col_index(m.group(1)))
        return cell.text if isinstance(cell, Formula) else cell

    def stored(self, title: str, a1: str) -> Any:
        """The cell as stored: a :class:`Formula` for a formula, else its value."""
        sheet = self.book.sheet(title)
        m = _CELL.match(a1)
        assert m
        return sheet.cell(int(m.group(2)) - 1, col_index(m.group(1)))

    def person_set(self, title: str, a1: str, value: Any) -> None:
        """A person types a value (text starting with "=" becomes a formula)."""
        with self.lock:
            sheet = self.book.sheet(title)
            m = _CELL.match(a1)
            assert m
            v = Formula(value) if isinstance(value, str) and value.startswith("=") else value
            sheet.set(int(m.group(2)) - 1, col_index(m.group(1)), None if v == "" else v)

    def person_sort(self, title: str, column: int, *, descending: bool = False, header_rows: int = 1) -> None:
        with self.lock:
            sheet = self.book.sheet(title)
            self._sort(sheet, header_rows, len(sheet.rows), [(column, descending)])

    def person_delete_rows(self, title: str, first_row: int, count: int = 1) -> None:
        """Delete sheet rows first_row.. (1-based), as a person's right-click → delete rows."""
        with self.lock:
            sheet = self.book.sheet(title)
            self._delete_dim(sheet, "ROWS", first_row - 1, first_row - 1 + count)

    def person_insert_rows(self, title: str, before_row: int, count: int = 1) -> None:
        with self.lock:
            self._insert_dim(self.book.sheet(title), "ROWS", before_row - 1, before_row - 1 + count)

    def person_insert_columns(self, title: str, before_col: int, count: int = 1) -> None:
        """Insert columns before 0-based column ``before_col``."""
        with self.lock:
            self._insert_dim(self.book.sheet(title), "COLUMNS", before_col, before_col + count)

    def person_delete_columns(self, title: str, first_col: int, count: int = 1) -> None:
        """Delete columns from 0-based ``first_col``."""
        with self.lock:
            self._delete_dim(self.book.sheet(title), "COLUMNS", first_col, first_col + count)

    def person_rename_tab(self, old: str, new: str) -> None:
        with self.lock:
            self.book.sheet(old).title = new

    def person_delete_tab(self, title: str) -> None:
        with self.lock:
            self.book.sheets.remove(self.book.sheet(title))
            self.book.reindex()

    # -- HTTP ------------------------------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        split = urlsplit(handler.path)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        method = handler.command
        status, payload, extra_headers = 200, {}, {}
        body: Any = None
        try:
            if path == "/token" and method == "POST":
                grant = parse_qs(raw.decode("utf-8"))
                self.token_grants.append(grant.get("grant_type", [""])[0])
                payload = {"access_token": self.issued_token, "expires_in": 3600, "token_type": "Bearer"}
                raise _Answer()
            body = json.loads(raw) if raw else {}
            for hook in list(self.hooks):
                hook(method, path)
            with self.lock:
                if self.require_token and handler.headers.get("Authorization") != f"Bearer {self.require_token}":
                    raise ApiError(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
                fault = self._take_fault(method)
                if fault is not None:
                    code, retry_after = fault
                    if retry_after is not None:
                        extra_headers["Retry-After"] = str(retry_after)
                    raise ApiError(code, _FAULT_MESSAGES.get(code, "Backend Error"),
                                   _FAULT_STATUS.get(code, "UNAVAILABLE"))
                if self.read_only and method != "GET":
                    raise ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")
                payload = self._route(method, path, query, body)
                lost = next((f for f in self.lost_answers if f[1] in path), None)
                if lost is not None:
                    self.lost_answers.remove(lost)
                    raise ApiError(lost[0], _FAULT_MESSAGES.get(lost[0], "Backend Error"),
                                   _FAULT_STATUS.get(lost[0], "UNAVAILABLE"))
        except ApiError as exc:
            status = exc.code
            payload = {"error": {"code": exc.code, "message": exc.message, "status": exc.status}}
        except _Answer:
            pass
        except json.JSONDecodeError:
            status = 400
            payload = {"error": {"code": 400, "message": "Invalid JSON payload received.",
                                 "status": "INVALID_ARGUMENT"}}
        data = json.dumps(payload).encode("utf-8")
        with self.lock:
            self.requests.append(Recorded(method, path, len(raw) + len(handler.path), len(data), status, query, body))
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=UTF-8")
            handler.send_header("Content-Length", str(len(data)))
            for key, value in extra_headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)

    def _take_fault(self, method: str) -> tuple[int, float | None] | None:
        for i, (code, retry_after, methods) in enumerate(self.faults):
            if not methods or (methods == "GET") == (method == "GET"):
                del self.faults[i]
                return code, retry_after
        return None

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        m = re.match(r"^/v4/spreadsheets/([^/:]+)(.*)$", path)
        if not m:
            raise ApiError(404, f"Not found: {path}", "NOT_FOUND")
        if m.group(1) != self.book.spreadsheet_id:
            raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
        rest = m.group(2)
        book = self.book
        if rest == "" and method == "GET":
            return self._metadata()
        if rest == ":batchUpdate" and method == "POST":
            return self._batch_update(body)
        if rest == "/values:batchGet" and method == "GET":
            render = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
            ranges = query.get("ranges", [])
            return {"spreadsheetId": book.spreadsheet_id, "valueRanges": [self._get(r, render) for r in ranges]}
        if rest == "/values:batchUpdate" and method == "POST":
            option = body.get("valueInputOption")
            if option not in ("RAW", "USER_ENTERED"):
                raise ApiError(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
            for item in body.get("data", []):  # validate every range first: all or nothing
                self._parse_range(item["range"])
            responses = [self._put(item["range"], item.get("values", []), option) for item in body.get("data", [])]
            return {"spreadsheetId": book.spreadsheet_id,
                    "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
                    "totalUpdatedColumns": max((r["updatedColumns"] for r in responses), default=0),
                    "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                    "totalUpdatedSheets": len({r["updatedRange"].split("!")[0] for r in responses}),
                    "responses": responses}
        if rest == "/values:batchClear" and method == "POST":
            cleared = [self._clear(r) for r in body.get("ranges", [])]
            return {"spreadsheetId": book.spreadsheet_id, "clearedRanges": cleared}
        vm = re.match(r"^/values/(.+?)(:append|:clear)?$", rest)
        if vm:
            a1, action = vm.group(1), vm.group(2)
            if action is None and method == "GET":
                return self._get(a1, query.get("valueRenderOption", ["FORMATTED_VALUE"])[0])
            if action is None and method == "PUT":
                option = query.get("valueInputOption", [""])[0]
                if option not in ("RAW", "USER_ENTERED"):
                    raise ApiError(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
                return self._put(a1, body.get("values", []), option)
            if action == ":append" and method == "POST":
                return self._append(a1, body.get("values", []), query.get("valueInputOption", ["RAW"])[0])
            if action == ":clear" and method == "POST":
                return {"spreadsheetId": book.spreadsheet_id, "clearedRange": self._clear(a1)}
        raise ApiError(404, f"Method not found: {method} {path}", "NOT_FOUND")

    def _metadata(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "spreadsheetId": self.book.spreadsheet_id,
            "properties": {"title": self.book.title, "locale": "fr_FR", "timeZone": "Europe/Paris",
                           "autoRecalc": "ON_CHANGE"},
            "sheets": [s.resource() for s in self.book.sheets],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.book.spreadsheet_id}/edit",
        }
        if self.book.developer_metadata:
            out["developerMetadata"] = copy.deepcopy(self.book.developer_metadata)
        return out

    # -- values ---------------------------------------------------------------------------
    def _parse_range(self, a1: str) -> tuple[FakeSheet, int, int, int | None, int | None]:
        """→ sheet, first row, first column (0-based), end row, end column (exclusive, None = open)."""
        text = a1.strip()
        if "!" in text:
            title_part, cells = text.rsplit("!", 1)
        elif self._is_title(text):
            title_part, cells = text, ""
        else:
            title_part, cells = "", text
        if title_part.startswith("'") and title_part.endswith("'"):
            title = title_part[1:-1].replace("''", "'")
        else:
            title = title_part
        sheet = self.book.sheet(title) if title else self.book.sheets[0]
        if not cells:
            return sheet, 0, 0, None, None
        parts = cells.split(":")
        if len(parts) > 2:
            raise ApiError(400, f"Unable to parse range: {a1}")
        m1 = _CELL.match(parts[0])
        m2 = _CELL.match(parts[1]) if len(parts) == 2 else m1
        if not m1 or not m2 or not (m1.group(1) or m1.group(2)):
            raise ApiError(400, f"Unable to parse range: {a1}")
        r0 = int(m1.group(2)) - 1 if m1.group(2) else 0
        c0 = col_index(m1.group(1)) if m1.group(1) else 0
        r1 = int(m2.group(2)) if m2.group(2) else None
        c1 = col_index(m2.group(1)) + 1 if m2.group(1) else None
        return sheet, r0, c0, r1, c1

    def _is_title(self, text: str) -> bool:
        name = text[1:-1].replace("''", "'") if text.startswith("'") and text.endswith("'") else text
        return any(s.title == name for s in self.book.sheets)

    def _a1(self, sheet: FakeSheet, r0: int, c0: int, r1: int, c1: int) -> str:
        return f"{quote_title(sheet.title)}!{col_letters(c0)}{r0 + 1}:{col_letters(c1 - 1)}{r1}"

    def _get(self, a1: str, render: str) -> dict[str, Any]:
        sheet, r0, c0, r1, c1 = self._parse_range(a1)
        end_r = min(r1 if r1 is not None else sheet.row_count, sheet.row_count)
        end_c = min(c1 if c1 is not None else sheet.column_count, sheet.column_count)
        values: list[list[Any]] = []
        for r in range(r0, min(end_r, len(sheet.rows))):
            source = sheet.rows[r]
            row = [self._render(source[c], render) for c in range(c0, min(end_c, len(source)))]
            while row and row[-1] == "":
                row.pop()
            values.append(row)
        while values and not values[-1]:
            values.pop()
        out: dict[str, Any] = {"range": self._a1(sheet, r0, c0, max(end_r, r0 + 1), max(end_c, c0 + 1)),
                               "majorDimension": "ROWS"}
        if values:
            out["values"] = values
        return out

    @staticmethod
    def _render(value: Any, render: str) -> Any:
        if value is None:
            return ""
        if isinstance(value, Formula):
            return value.text if render == "FORMULA" else ""
        if render == "FORMATTED_VALUE":
            if isinstance(value, bool):
                return "TRUE" if value else "FALSE"
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            return str(value)
        return value

    def _put(self, a1: str, values: list[list[Any]], option: str) -> dict[str, Any]:
        sheet, r0, c0, r1, c1 = self._parse_range(a1)
        height = len(values)
        width = max((len(v) for v in values), default=0)
        anchor_only = ":" not in a1.rsplit("!", 1)[-1]  # a single cell is where writing starts
        if not anchor_only and ((r1 is not None and height > r1 - r0) or (c1 is not None and width > c1 - c0)):
            raise ApiError(400, f"Requested writing within range [{a1}], but tried writing to row [{r0 + height}]")
        if r0 + height > sheet.row_count or c0 + width > sheet.column_count:
            raise ApiError(
                400,
                f"Range ({quote_title(sheet.title)}!{col_letters(c0 + width - 1)}{r0 + height}) exceeds grid limits. "
                f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}",
            )
        cells = 0
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if value is None:
                    continue  # Google: null values are skipped
                sheet.set(r0 + i, c0 + j, self._interpret(value, option))
                cells += 1
        return {"spreadsheetId": self.book.spreadsheet_id,
                "updatedRange": self._a1(sheet, r0, c0, r0 + max(height, 1), c0 + max(width, 1)),
                "updatedRows": height, "updatedColumns": width, "updatedCells": cells}

    def _append(self, a1: str, values: list[list[Any]], option: str) -> dict[str, Any]:
        sheet, *_ = self._parse_range(a1)
        start = len(sheet.rows)
        while start > 0 and not any(v is not None for v in sheet.rows[start - 1]):
            start -= 1
        if start + len(values) > sheet.row_count:
            sheet.row_count = start + len(values)
        result = self._put(f"{quote_title(sheet.title)}!A{start + 1}", values, option)
        return {"spreadsheetId": self.book.spreadsheet_id, "tableRange": self._a1(sheet, 0, 0, max(start, 1), 1),
                "updates": result}

    def _clear(self, a1: str) -> str:
        sheet, r0, c0, r1, c1 = self._parse_range(a1)
        for r in range(r0, min(r1 if r1 is not None else len(sheet.rows), len(sheet.rows))):
            row = sheet.rows[r]
            for c in range(c0, min(c1 if c1 is not None else len(row), len(row))):
                row[c] = None
        return a1

    def _formula(self, text: str) -> Formula:
        """A formula as stored: with ``google_rendering``, as Google hands it back (sheet names quoted,
        function names in capitals, no spaces outside text), not as it was sent."""
        return Formula(google_render(text) if self.google_rendering else text)

    def _interpret(self, value: Any, option: str) -> Any:
        if isinstance(value, (bool, int, float)):
            return value
        if not isinstance(value, str):
            raise ApiError(400, f"Invalid value at 'data.values': {value!r}")
        if value == "":
            return None
        if option == "RAW":
            return value
        if value.startswith("="):
            return self._formula(value)
        if value.startswith("'"):
            return value[1:]
        if value.upper() in ("TRUE", "FALSE"):
            return value.upper() == "TRUE"
        if re.fullmatch(r"-?\d+", value):
            return int(value)
        if re.fullmatch(r"-?\d*\.\d+(e-?\d+)?|-?\d+e-?\d+", value, re.I):
            return float(value)
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return (datetime.strptime(value, fmt).date() - EPOCH).days
            except ValueError:
                pass
        return value

    # -- batchUpdate ----------------------------------------------------------------------
    def _batch_update(self, body: dict[str, Any]) -> dict[str, Any]:
        requests = body.get("requests") or []
        if not requests:
            raise ApiError(400, "Must specify at least one request.")
        for request in requests:
            if len(request) != 1 or next(iter(request)) not in _HANDLED:
                raise ApiError(400, f"Invalid requests[0]: unknown or unsupported request {list(request)}")
        # All or nothing, as Google: apply to a copy and swap it in only if every request worked.
        saved = self._snapshot()
        replies = []
        try:
            for request in requests:
                (kind, args), = request.items()
                replies.append(getattr(self, "_r_" + kind)(args))
        except ApiError:
            self.book = saved
            raise
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            self.book = saved
            raise ApiError(400, f"Invalid request: {exc!r}") from None
        return {"spreadsheetId": self.book.spreadsheet_id, "replies": replies}

    def _snapshot(self) -> FakeSpreadsheet:
        """A copy cheap enough for 100,000 rows: cell values are immutable, only the lists are copied."""
        book = self.book
        sheets = []
        for sheet in book.sheets:
            rows = sheet.rows
            sheet.rows = []
            clone = copy.deepcopy(sheet)
            sheet.rows = rows
            clone.rows = [list(r) for r in rows]
            sheets.append(clone)
        return FakeSpreadsheet(book.spreadsheet_id, book.title, sheets, copy.deepcopy(book.developer_metadata),
                               book.next_id)

    def _grid(self, grid: dict[str, Any]) -> tuple[FakeSheet, int, int, int, int]:
        sheet = self.book.sheet(sheet_id=grid.get("sheetId", 0))
        r0 = grid.get("startRowIndex", 0)
        r1 = grid.get("endRowIndex", sheet.row_count)
        c0 = grid.get("startColumnIndex", 0)
        c1 = grid.get("endColumnIndex", sheet.column_count)
        if r1 > sheet.row_count or c1 > sheet.column_count or r0 < 0 or c0 < 0:
            raise ApiError(400, f"Range ({quote_title(sheet.title)}!{col_letters(c1 - 1)}{r1}) exceeds grid limits. "
                                f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}")
        return sheet, r0, r1, c0, c1

    def _r_addSheet(self, args: dict[str, Any]) -> dict[str, Any]:
        props = args.get("properties", {})
        title = props.get("title") or f"Feuille {len(self.book.sheets) + 1}"
        if any(s.title.casefold() == title.casefold() for s in self.book.sheets):
            raise ApiError(400, f'A sheet with the name "{title}" already exists. Please enter another name.')
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = self.book.new_id()
        elif any(s.sheet_id == sheet_id for s in self.book.sheets):
            raise ApiError(400, f"A sheet with id {sheet_id} already exists.")
        grid = props.get("gridProperties", {})
        sheet = FakeSheet(sheet_id, title, len(self.book.sheets), grid.get("rowCount", 1000),
                          grid.get("columnCount", 26), grid.get("frozenRowCount", 0))
        index = props.get("index")
        if index is None:
            self.book.sheets.append(sheet)
        else:
            self.book.sheets.insert(index, sheet)
        self.book.reindex()
        return {"addSheet": {"properties": sheet.properties()}}

    def _r_deleteSheet(self, args: dict[str, Any]) -> dict[str, Any]:
        self.book.sheets.remove(self.book.sheet(sheet_id=args["sheetId"]))
        self.book.reindex()
        return {}

    def _r_updateSheetProperties(self, args: dict[str, Any]) -> dict[str, Any]:
        props = args["properties"]
        fields = args.get("fields", "*")
        sheet = self.book.sheet(sheet_id=props.get("sheetId", 0))
        grid = props.get("gridProperties", {})
        wanted = {f.strip().replace("/", ".") for f in fields.split(",")}  # gspread writes a/b
        star = "*" in wanted

        def has(name: str) -> bool:
            return star or name in wanted or name.split(".")[0] in wanted

        if has("title") and "title" in props:
            if any(s is not sheet and s.title.casefold() == props["title"].casefold() for s in self.book.sheets):
                raise ApiError(400, f'A sheet with the name "{props["title"]}" already exists.')
            sheet.title = props["title"]
        if has("gridProperties.rowCount") and "rowCount" in grid:
            sheet.row_count = grid["rowCount"]
        if has("gridProperties.columnCount") and "columnCount" in grid:
            sheet.column_count = grid["columnCount"]
        if has("gridProperties.frozenRowCount"):
            sheet.frozen_rows = grid.get("frozenRowCount", 0)
        if has("index") and "index" in props:
            self.book.sheets.remove(sheet)
            self.book.sheets.insert(props["index"], sheet)
            self.book.reindex()
        return {}

    def _r_updateSpreadsheetProperties(self, args: dict[str, Any]) -> dict[str, Any]:
        if "title" in args.get("properties", {}):
            self.book.title = args["properties"]["title"]
        return {}

    def _r_appendDimension(self, args: dict[str, Any]) -> dict[str, Any]:
        sheet = self.book.sheet(sheet_id=args["sheetId"])
        if args["dimension"] == "ROWS":
            sheet.row_count += args["length"]
        else:
            sheet.column_count += args["length"]
        return {}

    def _r_insertDimension(self, args: dict[str, Any]) -> dict[str, Any]:
        rng = args["range"]
        self._insert_dim(self.book.sheet(sheet_id=rng["sheetId"]), rng["dimension"], rng["startIndex"], rng["endIndex"])
        return {}

    def _r_deleteDimension(self, args: dict[str, Any]) -> dict[str, Any]:
        rng = args["range"]
        self._delete_dim(self.book.sheet(sheet_id=rng["sheetId"]), rng["dimension"], rng["startIndex"], rng["endIndex"])
        return {}

    def _r_updateDimensionProperties(self, args: dict[str, Any]) -> dict[str, Any]:
        self.book.sheet(sheet_id=args["range"]["sheetId"]).dimensions.append(args)
        return {}

    def _r_repeatCell(self, args: dict[str, Any]) -> dict[str, Any]:
        sheet, r0, r1, c0, c1 = self._grid(args["range"])
        cell = args.get("cell", {})
        value = cell.get("userEnteredValue")
        if value is not None:
            (kind, content), = value.items()
            for r in range(r0, r1):
                for c in range(c0, c1):
                    if kind == "formulaValue":
                        sheet.set(r, c, self._formula(shift_relative(content, sheet.title, r - r0, c - c0)))
                    else:
                        sheet.set(r, c, None if content == "" else content)
        if "userEnteredFormat" in cell:
            sheet.formats.append({"range": args["range"], "format": cell["userEnteredFormat"],
                                  "fields": args.get("fields", "")})
        return {}

    def _r_setDataValidation(self, args: dict[str, Any]) -> dict[str, Any]:
        sheet, *_ = self._grid(args["range"])
        sheet.validations.append({"range": args["range"], "rule": args.get("rule")})
        return {}

    def _r_sortRange(self, args: dict[str, Any]) -> dict[str, Any]:
        sheet, r0, r1, _c0, _c1 = self._grid(args["range"])
        specs = [(s["dimensionIndex"], s.get("sortOrder") == "DESCENDING") for s in args.get("sortSpecs", [])]
        self._sort(sheet, r0, min(r1, len(sheet.rows)), specs)
        return {}

    def _r_addProtectedRange(self, args: dict[str, Any]) -> dict[str, Any]:
        rng = dict(args["protectedRange"])
        self._grid(rng["range"])
        rng["protectedRangeId"] = self.book.new_id()
        sheet = self.book.sheet(sheet_id=rng["range"].get("sheetId", 0))
        sheet.protected_ranges.append(rng)
        return {"addProtectedRange": {"protectedRange": copy.deepcopy(rng)}}

    def _r_updateProtectedRange(self, args: dict[str, Any]) -> dict[str, Any]:
        new = args["protectedRange"]
        for sheet in self.book.sheets:
            for rng in sheet.protected_ranges:
                if rng["protectedRangeId"] == new["protectedRangeId"]:
                    rng.update({k: v for k, v in new.items() if k != "protectedRangeId"})
                    return {}
        raise ApiError(400, f"No protected range with id: {new['protectedRangeId']}")

    def _r_deleteProtectedRange(self, args: dict[str, Any]) -> dict[str, Any]:
        for sheet in self.book.sheets:
            for rng in sheet.protected_ranges:
                if rng["protectedRangeId"] == args["protectedRangeId"]:
                    sheet.protected_ranges.remove(rng)
                    return {}
        raise ApiError(400, f"No protected range with id: {args['protectedRangeId']}")

    def _r_addFilterView(self, args: dict[str, Any]) -> dict[str, Any]:
        view = dict(args["filter"])
        self._grid(view["range"])
        view["filterViewId"] = self.book.new_id()
        self.book.sheet(sheet_id=view["range"].get("sheetId", 0)).filter_views.append(view)
        return {"addFilterView": {"filter": copy.deepcopy(view)}}

    def _r_updateFilterView(self, args: dict[str, Any]) -> dict[str, Any]:
        new = args["filter"]
        for sheet in self.book.sheets:
            for view in sheet.filter_views:
                if view["filterViewId"] == new["filterViewId"]:
                    view.update({k: v for k, v in new.items() if k != "filterViewId"})
                    return {}
        raise ApiError(400, f"No filter view with id: {new['filterViewId']}")

    def _r_deleteFilterView(self, args: dict[str, Any]) -> dict[str, Any]:
        for sheet in self.book.sheets:
            for view in sheet.filter_views:
                if view["filterViewId"] == args["filterId"]:
                    sheet.filter_views.remove(view)
                    return {}
        raise ApiError(400, f"No filter view with id: {args['filterId']}")

    def _r_addConditionalFormatRule(self, args: dict[str, Any]) -> dict[str, Any]:
        rule = args["rule"]
        sheet = self.book.sheet(sheet_id=rule["ranges"][0].get("sheetId", 0))
        sheet.conditional_formats.insert(args.get("index", len(sheet.conditional_formats)), rule)
        return {}

    def _r_deleteConditionalFormatRule(self, args: dict[str, Any]) -> dict[str, Any]:
        sheet = self.book.sheet(sheet_id=args["sheetId"])
        if args["index"] >= len(sheet.conditional_formats):
            raise ApiError(400, f"Invalid index: {args['index']}")
        return {"deleteConditionalFormatRule": {"rule": sheet.conditional_formats.pop(args["index"])}}

    def _r_addChart(self, args: dict[str, Any]) -> dict[str, Any]:
        chart = dict(args["chart"])
        anchor = chart["position"]["overlayPosition"]["anchorCell"]
        sheet = self.book.sheet(sheet_id=anchor["sheetId"])
        for domain in chart["spec"]["basicChart"]["domains"]:
            for source in domain["domain"]["sourceRange"]["sources"]:
                self._grid(source)
        chart["chartId"] = self.book.new_id()
        sheet.charts.append(chart)
        return {"addChart": {"chart": copy.deepcopy(chart)}}

    def _r_createDeveloperMetadata(self, args: dict[str, Any]) -> dict[str, Any]:
        meta = dict(args["developerMetadata"])
        meta["metadataId"] = self.book.new_id()
        location = dict(meta.get("location", {}))
        if "sheetId" in location:
            location["locationType"] = "SHEET"
            meta["location"] = location
            self.book.sheet(sheet_id=location["sheetId"]).developer_metadata.append(meta)
        else:
            meta["location"] = {"spreadsheet": True, "locationType": "SPREADSHEET"}
            self.book.developer_metadata.append(meta)
        return {"createDeveloperMetadata": {"developerMetadata": copy.deepcopy(meta)}}

    def _all_metadata(self) -> list[list[dict[str, Any]]]:
        return [self.book.developer_metadata, *(s.developer_metadata for s in self.book.sheets)]

    def _r_updateDeveloperMetadata(self, args: dict[str, Any]) -> dict[str, Any]:
        ids = {f["developerMetadataLookup"]["metadataId"] for f in args["dataFilters"]}
        new = args["developerMetadata"]
        for items in self._all_metadata():
            for meta in items:
                if meta["metadataId"] in ids:
                    for key in ("metadataValue", "metadataKey"):
                        if key in new:
                            meta[key] = new[key]
        return {"updateDeveloperMetadata": {}}

    def _r_deleteDeveloperMetadata(self, args: dict[str, Any]) -> dict[str, Any]:
        wanted = args["dataFilter"]["developerMetadataLookup"]["metadataId"]
        for items in self._all_metadata():
            for meta in list(items):
                if meta["metadataId"] == wanted:
                    items.remove(meta)
        return {"deleteDeveloperMetadata": {}}

    # -- moving cells like Google does -----------------------------------------------------
    def _adjust_all(self, target: FakeSheet, dim: str, at: int, delta: int) -> None:
        """References into ``target`` at or after ``at`` move by ``delta`` rows or columns."""

        def fn(sheet: str, col: str, col_abs: bool, row: int | None, row_abs: bool) -> tuple[str, int | None]:
            if sheet != target.title:
                return col, row
            if dim == "COLUMNS" and col_index(col) >= at:
                return col_letters(max(0, col_index(col) + delta)), row
            if dim == "ROWS" and row is not None and row - 1 >= at:
                return col, max(1, row + delta)
            return col, row

        for sheet in self.book.sheets:
            for row in sheet.rows:
                for j, cell in enumerate(row):
                    if isinstance(cell, Formula):
                        row[j] = Formula(rewrite_refs(cell.text, sheet.title, fn))

    def _insert_dim(self, sheet: FakeSheet, dim: str, start: int, end: int) -> None:
        n = end - start
        self._adjust_all(sheet, dim, start, n)
        if dim == "ROWS":
            sheet.rows[start:start] = [[] for _ in range(n)] if start <= len(sheet.rows) else []
            sheet.row_count += n
        else:
            for row in sheet.rows:
                if start < len(row):
                    row[start:start] = [None] * n
            sheet.column_count += n

    def _delete_dim(self, sheet: FakeSheet, dim: str, start: int, end: int) -> None:
        n = end - start
        if dim == "ROWS":
            del sheet.rows[start:end]
            sheet.row_count -= n
        else:
            for row in sheet.rows:
                del row[start:end]
            sheet.column_count -= n
        self._adjust_all(sheet, dim, end, -n)

    def _sort(self, sheet: FakeSheet, r0: int, r1: int, specs: list[tuple[int, bool]]) -> None:
        block = [(i, sheet.rows[i]) for i in range(r0, min(r1, len(sheet.rows)))]

        def key_for(column: int) -> Callable[[tuple[int, list[Any]]], tuple[int, Any]]:
            def key(item: tuple[int, list[Any]]) -> tuple[int, Any]:
                value = item[1][column] if column < len(item[1]) else None
                if value is None or isinstance(value, Formula):
                    return (2, "")
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return (0, value)
                return (1, str(value).casefold())
            return key

        for column, descending in reversed(specs):
            block.sort(key=key_for(column), reverse=descending)
        for new_index, (old_index, row) in enumerate(block, start=r0):
            dr = new_index - old_index
            moved = [Formula(shift_relative(c.text, sheet.title, dr, 0)) if isinstance(c, Formula) and dr else c
                     for c in row]
            sheet.rows[new_index] = moved


_HANDLED = {
    name[3:] for name in dir(FakeSheetsServer) if name.startswith("_r_")
}
_FAULT_MESSAGES = {
    429: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user'",
    500: "Internal error encountered.",
    502: "Bad Gateway",
    503: "The service is currently unavailable.",
}
_FAULT_STATUS = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE"}
