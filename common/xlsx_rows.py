"""The rows of one sheet of an XLSX workbook, read straight from its XML, one row at a time.

`sheet_rows(file, prefer="Risks")` yields (row number, cells) for every row that holds a
value, the cells a list up to the row's last value (None where a cell is empty). A cell is:
- text: a shared string (rich text as its plain text), an inline string, a formula's cached
  text result;
- a formula as its text, "=" and the formula (`=HYPERLINK(...)`), never its result: a shared
  formula is translated to its cell, as Excel shows it;
- int or float for a number; datetime (or time, or timedelta) for a number whose number
  format is a date's (openpyxl's rules); True/False; an error as its text ("#N/A").
That is what openpyxl's read-only reader gives with `data_only=False, values_only=True`, at a
fifth of its cost: openpyxl builds an element, then a cell object, for every cell (about 1 ms
a row of the register's 45 columns); here the standard library's C parser calls back only
for the tags of cells, and nothing but the values is kept.

Memory stays flat with the file: the sheet is parsed as a stream, each row handed on once read;
the shared strings (every distinct text of the workbook) go to a temporary file, and only their
offsets (8 bytes each) stay in memory. Limits against hostile files: no cell beyond column
MAX_COLUMNS or row 1,048,576 (Excel's), the declared sheet size ("dimension") is never read,
and the parts read whole are capped in size. Every failure to read is a SheetError with a
message for people (not a zip, no such part, broken XML, ...).

XML safety: the parser is the standard library's expat (2.4.1 and later refuse entity expansion
bombs; ElementTree resolves no external entity), and a part that declares a document type is
refused.
"""

from __future__ import annotations

import datetime
import mmap
import posixpath
import tempfile
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from xml.etree.ElementTree import ParseError, XMLParser  # nosec B405 - see the docstring

from openpyxl.formula.translate import Translator, TranslatorError
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MAX_COLUMNS = 1024  # the register has about 45; Excel allows 16,384
MAX_ROW = 1_048_576  # Excel's last row
SMALL_PART_MAX = 16 * 1024 * 1024  # workbook.xml, the relationships, styles.xml, uncompressed
SHARED_STRINGS_MAX = 512 * 1024 * 1024  # sharedStrings.xml, uncompressed
READ_SIZE = 64 * 1024

_MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # "strict" OOXML
)
_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


class SheetError(ValueError):
    """The file cannot be read as an XLSX workbook (the message says why)."""


def _column_numbers() -> dict[str, int]:
    numbers = {}
    for number in range(1, MAX_COLUMNS + 1):
        letters, n = "", number
        while n:
            n, rest = divmod(n - 1, 26)
            letters = chr(65 + rest) + letters
        numbers[letters] = number
    return numbers


_COLUMNS = _column_numbers()
_DIGITS = "0123456789"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


# --- The package ----------------------------------------------------------------------------


def _open(file) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise SheetError(f"it is not an XLSX workbook (not a zip archive: {error}).") from None


def _member(book: zipfile.ZipFile, name: str, limit: int | None = None) -> zipfile.ZipInfo:
    try:
        info = book.getinfo(name)
    except KeyError:
        raise SheetError(f"the workbook lacks its part {name!r}.") from None
    if limit is not None and info.file_size > limit:
        raise SheetError(f"its part {name!r} is larger than {limit // 2**20} MiB unpacked.")
    return info


class _Target:
    """What ElementTree's parser calls back: the tags and text of a part. This one keeps
    every start tag's attributes, for the small parts; the sheet's and the shared strings'
    keep only the values. No part may declare a document type."""

    def __init__(self):
        self.tags: list[tuple[str, dict]] = []

    def start(self, tag: str, attrib: dict) -> None:
        self.tags.append((_local(tag), attrib))

    def end(self, tag: str) -> None:
        self.tags.append(("/" + _local(tag), {}))

    def data(self, text: str) -> None:
        pass

    def doctype(self, *args) -> None:
        raise SheetError("one of its parts declares a document type, which a workbook never does.")

    def close(self) -> None:
        pass


def _parse(book: zipfile.ZipFile, name: str, target: _Target) -> Iterator[None]:
    """Feed the part to the parser, a piece at a time; yields after each piece, so that the
    caller can hand on what the target gathered."""
    parser = XMLParser(target=target)  # noqa: S314  # nosec B314 - see the docstring
    try:
        with book.open(name) as stream:
            while data := stream.read(READ_SIZE):
                parser.feed(data)
                yield
        parser.close()
        yield
    except ParseError as error:
        raise SheetError(f"its part {name!r} is not well-formed XML ({error}).") from None
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,
        NotImplementedError,
    ) as error:
        raise SheetError(f"its part {name!r} cannot be unpacked ({error}).") from None


def _small(book: zipfile.ZipFile, name: str) -> list[tuple[str, dict]]:
    """(local tag, attributes) of every start tag of a small part, ("/tag", {}) at its end."""
    _member(book, name, SMALL_PART_MAX)
    target = _Target()
    for _ in _parse(book, name, target):
        pass
    return target.tags


def _relationships(book: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Id -> (type's last word, target's path in the package) of a part's relationships."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if rels not in book.NameToInfo:
        return {}
    found = {}
    for tag, attrib in _small(book, rels):
        if tag != "Relationship" or attrib.get("TargetMode") == "External":
            continue
        target = attrib.get("Target", "")
        path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
        found[attrib.get("Id")] = (
            attrib.get("Type", "").rpartition("/")[2],
            posixpath.normpath(path),
        )
    return found


class _Workbook:
    """Where the sheets, the shared strings and the styles are, and the date system."""

    def __init__(self, book: zipfile.ZipFile):
        root = dict(_relationships(book, "").values())
        self.path = root.get("officeDocument", "xl/workbook.xml")
        self.parts = _relationships(book, self.path)
        self.sheets: list[tuple[str, str]] = []  # (name, part) of each worksheet, in order
        self.epoch = CALENDAR_WINDOWS_1900
        for tag, attrib in _small(book, self.path):
            if tag == "sheet":
                ids = [attrib.get(f"{{{ns}}}id") for ns in _REL]
                kind, part = self.parts.get(ids[0] or ids[1], ("", ""))
                if kind == "worksheet":
                    self.sheets.append((attrib.get("name", ""), part))
            elif tag == "workbookPr" and attrib.get("date1904") in ("1", "true"):
                self.epoch = CALENDAR_MAC_1904

    def part(self, kind: str) -> str | None:
        return next((path for k, path in self.parts.values() if k == kind), None)

    def sheet(self, prefer: str | None) -> str:
        if not self.sheets:
            raise SheetError("the workbook has no worksheet.")
        for name, part in self.sheets:
            if name == prefer:
                return part
        return self.sheets[0][1]


def _date_styles(book: zipfile.ZipFile, part: str | None) -> tuple[set[int], set[int]]:
    """The style indexes whose number format is a date's, and those that are durations'."""
    if part is None or part not in book.NameToInfo:
        return set(), set()
    formats = dict(BUILTIN_FORMATS)
    dates: set[int] = set()
    durations: set[int] = set()
    in_cell_formats, index = False, 0
    for tag, attrib in _small(book, part):
        if tag == "numFmt" and attrib.get("numFmtId", "").isdigit():
            formats[int(attrib["numFmtId"])] = attrib.get("formatCode")
        elif tag in ("cellXfs", "/cellXfs"):
            in_cell_formats = tag == "cellXfs"
        elif tag == "xf" and in_cell_formats:
            number = attrib.get("numFmtId", "0")
            code = formats.get(int(number)) if number.isdigit() else None
            if is_date_format(code):
                dates.add(index)
                if is_timedelta_format(code):
                    durations.add(index)
            index += 1
    return dates, durations


# --- Text: shared strings and inline strings -------------------------------------------------


class _StringItems(_Target):
    """The plain text of string items (<si> of the shared strings, <is> of a cell): their
    <t>, or their runs' <t>s; a phonetic run's (<rPh>) is not part of it."""

    def __init__(self, ns: str = ""):
        self.namespace(ns)
        self.text: list[str] | None = None  # while inside a <t>
        self.phonetic = False
        self.item: list[str] = []

    def namespace(self, ns: str) -> None:
        self.T, self.RPH = f"{ns}t", f"{ns}rPh"

    def start(self, tag: str, attrib: dict) -> None:
        if tag == self.T:
            if not self.phonetic:
                self.text = []
        elif tag == self.RPH:
            self.phonetic = True

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, tag: str) -> None:
        if tag == self.T:
            if self.text is not None:
                self.item.append("".join(self.text))
                self.text = None
        elif tag == self.RPH:
            self.phonetic = False

    def take(self) -> str:
        item, self.item = "".join(self.item), []
        return item


class _SharedStringsReader(_StringItems):
    def __init__(self, out):
        super().__init__()
        self.out, self.SI, self.root = out, "", True
        self.pending: list[bytes] = []
        self.size = 0

    def start(self, tag: str, attrib: dict) -> None:
        if self.root:
            self.root = False
            ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
            self.namespace(ns)
            self.SI = f"{ns}si"
        elif tag == self.SI:
            self.item = []
        else:
            super().start(tag, attrib)

    def end(self, tag: str) -> None:
        if tag == self.SI:
            data = self.take().replace("x005F_", "").encode()  # as openpyxl reads them
            self.pending.append(data)
            self.size += len(data)
            self.out.offsets.append(self.size)
        else:
            super().end(tag)


class _SharedStrings:
    """The shared strings, kept in a temporary file: only their offsets are in memory."""

    def __init__(self, book: zipfile.ZipFile, part: str | None):
        self.offsets = array("q", [0])
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.view: mmap.mmap | None = None
        if part is None or part not in book.NameToInfo:
            return
        _member(book, part, SHARED_STRINGS_MAX)
        reader = _SharedStringsReader(self)
        for _ in _parse(book, part, reader):
            self.file.write(b"".join(reader.pending))
            reader.pending.clear()
        self.file.flush()
        if reader.size:
            self.view = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)

    def __getitem__(self, index: int) -> str:
        offsets = self.offsets
        if not 0 <= index < len(offsets) - 1:
            raise ValueError(index)
        start, end = offsets[index], offsets[index + 1]
        return self.view[start:end].decode() if end > start else ""

    def close(self) -> None:
        if self.view is not None:
            self.view.close()
        self.file.close()


# --- The sheet ----------------------------------------------------------------------------------


def sheet_rows(file, *, prefer: str | None = None) -> Iterator[tuple[int, list]]:
    """(row number, cells) for each row with a value of the sheet named `prefer`, or of the
    first worksheet when there is none. `file` is a path or a binary file object."""
    book = _open(file)
    try:
        workbook = _Workbook(book)
        part = workbook.sheet(prefer)
        _member(book, part)
        dates, durations = _date_styles(book, workbook.part("styles"))
        strings = _SharedStrings(book, workbook.part("sharedStrings"))
        try:
            reader = _SheetReader(part, strings, dates, durations, workbook.epoch)
            for _ in _parse(book, part, reader):
                if reader.rows:
                    yield from reader.rows
                    reader.rows = []
        finally:
            strings.close()
    finally:
        book.close()


class _SheetReader(_StringItems):
    """The sheet's rows, gathered in `rows` as the parser reads them."""

    def __init__(self, part: str, strings, dates, durations, epoch):
        super().__init__()
        self.part, self.strings = part, strings
        self.dates, self.durations, self.epoch = dates, durations, epoch
        self.rows: list[tuple[int, list]] = []
        self.cells: list = []
        self.row, self.row_text = 0, "0"
        self.root = True
        self.attrib: dict = {}
        self.value: str | None = None  # <v>
        self.formula: str | None = None  # <f>
        self.formula_attrib: dict = {}
        self.inline: str | None = None  # <is>
        self.shared: dict[str, Translator] = {}  # shared formulas, by their index
        self.C = self.V = self.F = self.ROW = self.IS = "\0"  # the tags, once the root is read

    def start(self, tag: str, attrib: dict) -> None:
        if tag == self.C:
            self.attrib = attrib
            self.value = self.formula = self.inline = None
        elif tag == self.V:
            self.text = []
        elif tag == self.ROW:
            number = attrib.get("r")
            self.row = self._row_number(number) if number else self.row + 1
            self.row_text = str(self.row)
            self.cells = []
        elif tag == self.F:
            self.formula_attrib = attrib
            self.text = []
        elif tag == self.IS:
            self.item = []
        elif self.root:
            self.root = False
            ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
            if ns[1:-1] not in _MAIN or _local(tag) != "worksheet":
                raise SheetError(f"its part {self.part!r} is not a worksheet.")
            self.namespace(ns)
            self.C, self.V, self.F = f"{ns}c", f"{ns}v", f"{ns}f"
            self.ROW, self.IS = f"{ns}row", f"{ns}is"
        else:
            super().start(tag, attrib)

    def end(self, tag: str) -> None:
        if tag == self.C:
            self.cell()
        elif tag == self.V:
            self.value = "".join(self.text) or None
            self.text = None
        elif tag == self.ROW:
            if self.cells:
                self.rows.append((self.row, self.cells))
                self.cells = []
        elif tag == self.F:
            self.formula = "".join(self.text)
            self.text = None
        elif tag == self.IS:
            self.inline = self.take()
        else:
            super().end(tag)

    def cell(self) -> None:
        value, formula, attrib = self.value, self.formula, self.attrib
        if formula is None and value is None and self.inline is None:
            return  # a formatted, empty cell
        ref = attrib.get("r")
        if ref:
            letters = ref.rstrip(_DIGITS)
            column = _COLUMNS.get(letters)
            if column is None or ref[len(letters) :] != self.row_text:
                raise SheetError(
                    f"its part {self.part!r} has a cell at {ref[:20]!r}: not a cell of its row "
                    f"({self.row}), or beyond column {MAX_COLUMNS:,} (the register has about 45)."
                )
        else:
            column = len(self.cells) + 1
        if formula is not None:
            value = self.formula_text(formula, ref)
        elif self.inline is not None:
            value = self.inline
        else:
            kind = attrib.get("t", "n")
            if kind in _TYPED:
                try:
                    value = self.typed(kind, value, attrib.get("s"))
                except ValueError:
                    raise SheetError(
                        f"its cell {ref} holds {value[:20]!r}, not a {_TYPED[kind]}."
                    ) from None
            # "str" (a formula's text result) and "e" (an error, "#N/A"): the text
        cells = self.cells
        if column > len(cells):
            cells.extend([None] * (column - len(cells)))
        cells[column - 1] = value

    def typed(self, kind: str, value: str, style: str | None):
        if kind == "s":
            return self.strings[int(value)]
        if kind == "n":
            number = float(value) if ("." in value or "E" in value or "e" in value) else int(value)
            if style and int(style) in self.dates:
                try:
                    return from_excel(number, self.epoch, timedelta=int(style) in self.durations)
                except (OverflowError, ValueError):
                    return "#VALUE!"  # as openpyxl: a date beyond the calendar is an error
            return number
        if kind == "b":
            return value.strip() in ("1", "true")
        try:
            return datetime.datetime.fromisoformat(value.rstrip("Z"))
        except ValueError:
            return value

    def formula_text(self, text: str, ref: str | None) -> str:
        """The formula as Excel shows it: "=" and its text; a shared formula's followers
        (no text of their own) get the first cell's, translated to where they are."""
        text = "=" + text
        if self.formula_attrib.get("t") == "shared" and ref:
            index = self.formula_attrib.get("si", "")
            if index in self.shared:
                try:
                    return self.shared[index].translate_formula(ref)
                except TranslatorError:
                    return self.shared[index].formula
            if text != "=":
                self.shared[index] = Translator(text, ref)
        return text

    def _row_number(self, text: str) -> int:
        if text.isdigit() and 0 < int(text) <= MAX_ROW:
            return int(text)
        raise SheetError(f"its part {self.part!r} has a row numbered {text[:20]!r}.")


_TYPED = {"s": "shared string's number", "n": "number", "b": "boolean", "d": "date"}
