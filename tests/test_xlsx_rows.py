"""common.xlsx_rows: the import's XLSX reader. It reads what openpyxl reads (a formula as its
text, never its result), from workbooks written by openpyxl and from XML as Excel and other
programs write it (shared strings, inline strings, rich text, shared formulas, dates), and
refuses hostile files with a SheetError, never anything else."""

from __future__ import annotations

import datetime
import io
import time
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from common import xlsx_rows
from common.xlsx_rows import SheetError, sheet_rows

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" '
    'formatCode="yyyy-mm-dd"/></numFmts><cellXfs count="3"><xf numFmtId="0"/>'
    '<xf numFmtId="164"/><xf numFmtId="14"/></cellXfs></styleSheet>'
)


def book(
    rows: str,
    *,
    shared: list[str] | None = None,
    sheets: tuple[str, ...] = ("Risks",),
    workbook_pr: str = "",
    sheet_head: str = "",
    parts: dict[str, bytes | str] | None = None,
    drop: tuple[str, ...] = (),
) -> bytes:
    """A workbook built from its XML, as Excel lays it out: every sheet holds `rows`."""
    files: dict[str, bytes | str] = {
        "[Content_Types].xml": "<Types/>",
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{workbook_pr}<sheets>'
            + "".join(
                f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>'
                for n, name in enumerate(sheets, start=1)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PKG}">'
            + "".join(
                f'<Relationship Id="rId{n}" Type="{REL}/worksheet" '
                f'Target="worksheets/sheet{n}.xml"/>'
                for n in range(1, len(sheets) + 1)
            )
            + f'<Relationship Id="rIdS" Type="{REL}/styles" Target="styles.xml"/>'
            + f'<Relationship Id="rIdT" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
            + "</Relationships>"
        ),
        "xl/styles.xml": STYLES,
    }
    for n in range(1, len(sheets) + 1):
        files[f"xl/worksheets/sheet{n}.xml"] = (
            f'<worksheet xmlns="{MAIN}">{sheet_head}<sheetData>{rows}</sheetData></worksheet>'
        )
    if shared is not None:
        files["xl/sharedStrings.xml"] = f'<sst xmlns="{MAIN}">' + "".join(shared) + "</sst>"
    files.update(parts or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            if name not in drop:
                archive.writestr(name, data)
    return out.getvalue()


def read(data: bytes, prefer: str | None = "Risks") -> list[tuple[int, list]]:
    return list(sheet_rows(io.BytesIO(data), prefer=prefer))


def test_shared_strings_rich_text_and_phonetic_runs():
    shared = [
        "<si><t>Code</t></si>",
        '<si><r><rPr><b/></rPr><t xml:space="preserve">Bold </t></r><r><t>and plain</t></r></si>',
        '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh></si>',
        "<si><t/></si>",
        "<si><t>&lt;b&gt; &amp; café</t></si>",
    ]
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c>'
        '<c r="C2" t="s"><v>4</v></c></row>'
    )
    assert read(book(rows, shared=shared)) == [
        (1, ["Code", "Bold and plain"]),
        (2, ["漢字", "", "<b> & café"]),
    ]


def test_inline_strings_numbers_booleans_errors_and_cached_text():
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>inline</t></is></c>'
        '<c r="B1" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r></is></c>'
        '<c r="C1"><v>3</v></c><c r="D1" t="n"><v>2.5</v></c><c r="E1"><v>1E3</v></c>'
        '<c r="F1" t="b"><v>1</v></c><c r="G1" t="b"><v>0</v></c>'
        '<c r="H1" t="e"><v>#N/A</v></c><c r="I1" t="str"><v>cached</v></c></row>'
    )
    assert read(book(rows)) == [
        (1, ["inline", "rich", 3, 2.5, 1000.0, True, False, "#N/A", "cached"])
    ]


def test_a_formula_is_its_text_never_its_result():
    rows = (
        '<row r="1"><c r="A1" t="str"><f>HYPERLINK("http://example.com","click")</f>'
        "<v>click</v></c>"
        '<c r="B1"><f>1+1</f><v>2</v></c>'
        '<c r="C1"><f t="shared" ref="C1:C3" si="0">A1&amp;"x"</f><v>0</v></c>'
        '<c r="D1"><f t="array" ref="D1">SUM(B1:B2)</f><v>2</v></c></row>'
        '<row r="2"><c r="C2"><f t="shared" si="0"/><v>0</v></c></row>'
        '<row r="3"><c r="C3"><f t="shared" si="0"/></c></row>'
    )
    assert read(book(rows)) == [
        (1, ['=HYPERLINK("http://example.com","click")', "=1+1", '=A1&"x"', "=SUM(B1:B2)"]),
        (2, [None, None, '=A2&"x"']),  # a shared formula, translated to its cell
        (3, [None, None, '=A3&"x"']),
    ]


def test_dates_by_number_format_and_the_1904_calendar():
    rows = (
        '<row r="1"><c r="A1" s="1"><v>46000</v></c><c r="B1" s="2"><v>46000.5</v></c>'
        '<c r="C1" s="0"><v>46000</v></c><c r="D1" t="d"><v>2026-01-02T03:04:05</v></c></row>'
    )
    assert read(book(rows)) == [
        (
            1,
            [
                datetime.datetime(2025, 12, 9),
                datetime.datetime(2025, 12, 9, 12),
                46000,
                datetime.datetime(2026, 1, 2, 3, 4, 5),
            ],
        )
    ]
    mac = book(rows, workbook_pr='<workbookPr date1904="1"/>')
    assert read(mac)[0][1][0] == datetime.datetime(2029, 12, 10)


def test_empty_cells_and_rows_and_cells_without_references():
    rows = (
        '<row r="2"><c r="B2"><v>1</v></c><c r="D2" s="1"/><c r="E2"><v>2</v></c></row>'
        '<row r="3"><c r="A3" s="1"/></row>'  # formatted, empty: no row
        '<row r="7"><c><v>1</v></c><c><v>2</v></c></row>'
        "<row><c><v>3</v></c></row>"
    )
    assert read(book(rows)) == [(2, [None, 1, None, None, 2]), (7, [1, 2]), (8, [3])]


def test_the_risks_sheet_or_else_the_first():
    data = book('<row r="1"><c r="A1"><v>1</v></c></row>', sheets=("Cover", "Risks"))
    assert read(data) == [(1, [1])]
    assert read(data, prefer="Nowhere") == [(1, [1])]


def test_it_reads_what_openpyxl_reads(tmp_path):
    written = Workbook()
    sheet = written.active
    sheet.title = "Risks"
    sheet.append(["Code", "Title", "Level", "Share", "Due", "Flag", None, "Note"])
    sheet.append(["R1", "=1+1", 3, 0.25, datetime.date(2026, 1, 2), True, None, "x"])
    sheet.append(["R2", '\'=HYPERLINK("a")', -4, 1e-9, datetime.datetime(2026, 1, 2, 3, 4)])
    sheet.append([])
    sheet.append(["R3", "  spaced  ", "=SUM(C2:C3)"])
    path = tmp_path / "written.xlsx"
    written.save(path)
    expected = [
        (number, cells[: max(i for i, c in enumerate(cells, start=1) if c is not None)])
        for number, cells in enumerate(
            (
                list(row)
                for row in load_workbook(path, read_only=True)["Risks"].iter_rows(values_only=True)
            ),
            start=1,
        )
        if any(c is not None for c in cells)
    ]
    assert read(path.read_bytes()) == expected


# --- Hostile and broken files ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a workbook", "not a zip archive"),
        (b"PK\x03\x04" + b"\0" * 40, "not a zip archive"),
        (book("", drop=("xl/workbook.xml",)), "lacks its part 'xl/workbook.xml'"),
        (book("", drop=("xl/worksheets/sheet1.xml",)), "lacks its part 'xl/worksheets/sheet1"),
        (
            book("", parts={"xl/workbook.xml": f'<workbook xmlns="{MAIN}"><sheets/></workbook>'}),
            "has no worksheet",
        ),
        (book('<row r="1"><c r="A1"><v>1</v></row>'), "not well-formed XML"),
        (book('<row r="1"><c r="A1" t="s"><v>7</v></c></row>', shared=[]), "not a shared"),
        (book('<row r="1"><c r="A1"><v>x1</v></c></row>'), "not a number"),
        (book('<row r="1"><c r="AMK1"><v>1</v></c></row>'), "beyond column 1,024"),
        (book('<row r="1"><c r="XFD1"><v>1</v></c></row>'), "beyond column 1,024"),
        (book('<row r="1"><c r="A2"><v>1</v></c></row>'), "not a cell of its row"),
        (book('<row r="1048577"><c><v>1</v></c></row>'), "a row numbered '1048577'"),
        (book('<row r="-1"><c><v>1</v></c></row>'), "a row numbered '-1'"),
        (
            book(
                "",
                parts={
                    "xl/worksheets/sheet1.xml": (
                        '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">'
                        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                        f'<worksheet xmlns="{MAIN}"><sheetData><row><c t="inlineStr"><is>'
                        "<t>&lol2;</t></is></c></row></sheetData></worksheet>"
                    )
                },
            ),
            "declares a document type",
        ),
        (
            book(
                "",
                parts={
                    "xl/worksheets/sheet1.xml": (
                        '<?xml version="1.0"?><!DOCTYPE w SYSTEM "file:///etc/passwd">'
                        f'<worksheet xmlns="{MAIN}"/>'
                    )
                },
            ),
            "declares a document type",
        ),
        (
            book("", parts={"xl/worksheets/sheet1.xml": "<chartsheet/>"}),
            "is not a worksheet",
        ),
    ],
)
def test_a_hostile_or_broken_file_is_a_sheet_error(data, message):
    with pytest.raises(SheetError, match=message):
        read(data)


def test_an_encrypted_member_is_a_sheet_error():
    data = bytearray(book('<row r="1"><c r="A1"><v>1</v></c></row>'))
    # Set the "encrypted" flag of every entry: zipfile asks for a password it does not have.
    offset = 0
    while (offset := data.find(b"PK\x03\x04", offset)) != -1:
        data[offset + 6] |= 1
        offset += 4
    offset = 0
    while (offset := data.find(b"PK\x01\x02", offset)) != -1:
        data[offset + 8] |= 1
        offset += 4
    with pytest.raises(SheetError):
        read(bytes(data))


def test_a_huge_declared_dimension_is_not_trusted():
    data = book(
        '<row r="1"><c r="A1"><v>1</v></c></row>',
        sheet_head='<dimension ref="A1:XFD1048576"/>',
    )
    started = time.process_time()
    assert read(data) == [(1, [1])]
    assert time.process_time() - started < 1


def test_oversized_parts_are_refused_before_they_are_read(monkeypatch):
    monkeypatch.setattr(xlsx_rows, "SHARED_STRINGS_MAX", 1000)
    data = book('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared=["<si><t>x</t></si>"] * 100)
    with pytest.raises(SheetError, match="larger than"):
        read(data)
    monkeypatch.setattr(xlsx_rows, "SMALL_PART_MAX", 100)
    with pytest.raises(SheetError, match="larger than"):
        read(book(""))


def test_a_zip_bomb_sheet_streams_in_flat_memory():
    """100,000 rows of an empty, formatted cell: 2 MB of XML packed in 6 kB. Read as a
    stream, nothing of it is kept."""
    rows = '<row><c s="1"/></row>' * 100_000 + "<row><c><v>1</v></c></row>"
    data = book(rows)
    assert len(data) < 10_000
    tracemalloc.start()
    try:
        assert read(data) == [(100_001, [1])]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # about 0.4 MB, whatever the rows
