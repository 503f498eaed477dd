"""Importing a register from CSV or XLSX: `manage.py import_register` over risks/importing.py."""

from __future__ import annotations

import csv
import io
from http import HTTPStatus

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from risks.columns import REGISTER_COLUMNS
from risks.importing import read_rows, register_import
from risks.models import Assessment, Risk
from risks.services import risk_update
from roadmap.models import Agency
from tests.test_xlsx_rows import book

pytestmark = pytest.mark.django_db

HEADER = {column.name: column.header for column in REGISTER_COLUMNS}
NAME = {column.header: column.name for column in REGISTER_COLUMNS}


@pytest.fixture
def exported(staff_client, seed) -> list[dict]:
    """The board's CSV, each row keyed by the columns' machine names (for the tests' code);
    `_write_csv` writes it back under the board's human headers."""
    response = staff_client.get("/risks/export.csv")
    assert response.status_code == HTTPStatus.OK
    title, text = b"".join(response.streaming_content).decode("utf-8-sig").split("\r\n", 1)
    assert title == "the register today; Filters: none (every risk on the register)"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(HEADER.values())
    return [{NAME[header]: value for header, value in row.items()} for row in rows]


def _write_csv(path, rows: list[dict], *, machine: bool = False):
    names = list(rows[0])
    with open(path, "w", newline="", encoding="utf-8-sig") as file:
        writer = csv.writer(file)
        writer.writerow(names if machine else [HEADER.get(name, name) for name in names])
        writer.writerows([row[name] for name in names] for row in rows)
    return path


def _import(path, *args, user="sam.staff"):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_register", str(path), *args, "--user", user, stdout=out, stderr=err)
    except CommandError as error:
        return False, f"{err.getvalue()}{error}"
    return True, out.getvalue()


def _by_code(rows: list[dict]) -> dict[str, dict]:
    return {row["code"]: row for row in rows}


def _state():
    return (
        Assessment.objects.count(),
        Risk.history.count(),
        list(Risk.objects.order_by("code").values_list("code", "version", "owner")),
    )


def _bump(row: dict) -> None:
    row["likelihood_level"] = str(int(row["likelihood_level"]) % 5 + 1)


def test_round_trip_three_ratings_and_one_owner(tmp_path, exported, staff_member):
    rows = _by_code(exported)
    for code in ("R1", "R2", "R3"):
        _bump(rows[code])  # the level only: its label column is left as exported
    rows["R4"]["owner"] = "A. New Owner"
    assessments, history, _ = _state()

    ok, output = _import(_write_csv(tmp_path / "edited.csv", exported))

    assert ok, output
    assert "4 updated (3 re-assessed)" in output
    new = Assessment.objects.order_by("id")[assessments:]
    assert sorted((a.risk.code, a.rationale, a.assessed_by) for a in new) == [
        (code, "imported from edited.csv", staff_member) for code in ("R1", "R2", "R3")
    ]
    for code in ("R1", "R2", "R3"):
        assert Risk.objects.get(code=code).likelihood == int(rows[code]["likelihood_level"])
    imported = Risk.history.filter(history_change_reason="import edited.csv by sam.staff")
    assert Risk.history.count() == history + 4 == history + imported.count()
    owner_rows = [h for h in imported if h.code == "R4"]
    assert len(owner_rows) == 1 and owner_rows[0].owner == "A. New Owner"
    assert owner_rows[0].history_user == staff_member
    assert owner_rows[0].prev_record.owner != "A. New Owner"
    assert {h.code for h in imported} == {"R1", "R2", "R3", "R4"}


def test_importing_the_export_unchanged_writes_nothing(tmp_path, exported):
    before = _state()
    ok, output = _import(_write_csv(tmp_path / "same.csv", exported))
    assert ok, output
    assert "5 unchanged" in output
    assert _state() == before


def test_one_bad_row_writes_nothing_and_names_row_and_column(tmp_path, exported):
    rows = _by_code(exported)
    _bump(rows["R1"])
    rows["R4"]["owner"] = "Someone Else"
    rows["R3"]["category"] = "Astrology"
    before = _state()

    ok, output = _import(_write_csv(tmp_path / "bad.csv", exported))

    assert not ok
    r3_row = [row["code"] for row in exported].index("R3") + 2  # the header is row 1
    assert f"row {r3_row}, column Category: 'Astrology' is not one of" in output
    assert "nothing was written" in output
    assert _state() == before


def test_every_error_is_listed(tmp_path, exported):
    exported[0]["category"] = "Nope"
    exported[1]["owner_agency"] = "NOPE"
    exported[1]["phases"] = "9"
    ok, output = _import(_write_csv(tmp_path / "bad.csv", exported))
    assert not ok
    assert "row 2, column Category" in output
    assert "row 3, column Owner agency: No agency has the code or name 'NOPE'" in output
    assert "row 3, column Phases: No phase has the number or name '9'" in output
    assert "3 errors" in output


def test_a_stale_row_is_refused(tmp_path, exported, staff_member):
    r1 = Risk.objects.get(code="R1")
    risk_update(risk=r1, user=staff_member, expected_version=r1.version, owner="Moved On")
    _bump(_by_code(exported)["R1"])
    before = _state()

    ok, output = _import(_write_csv(tmp_path / "stale.csv", exported))

    assert not ok
    assert "column Version: This risk was changed by sam.staff" in output
    assert "owner: 'Seed" in output or "owner:" in output
    assert _state() == before


def test_an_existing_code_needs_its_version(tmp_path, exported):
    for row in exported:
        del row["version"]
    _bump(exported[0])
    ok, output = _import(_write_csv(tmp_path / "no-version.csv", exported))
    assert not ok
    assert "column version" in output and "give the version you exported" in output


def test_unknown_agency_is_refused_never_created(tmp_path, exported):
    new = dict(exported[0], code="R99", version="", owner_agency="MINISTRY OF MAGIC")
    agencies = Agency.objects.count()
    ok, output = _import(_write_csv(tmp_path / "new.csv", [*exported, new]))
    assert not ok
    assert "row 7, column Owner agency: No agency has the code or name 'MINISTRY OF MAGIC'" in (
        output
    )
    assert Agency.objects.count() == agencies
    assert not Risk.objects.filter(code="R99").exists()


def test_a_new_code_is_created_with_its_first_assessment(tmp_path, exported, staff_member):
    agency = Agency.objects.order_by("code").first()
    new = dict(
        exported[0],
        code="R99",
        title="Imported risk",
        version="",
        owner_agency=agency.name,  # by name as well as by code
        supporting_agencies="",
        phases="1; 2",
        likelihood_level="2",
        likelihood_label="",
        impact_level="5",
        impact_label="",
        status="Open",
    )
    ok, output = _import(_write_csv(tmp_path / "new.csv", [new]))
    assert ok, output
    risk = Risk.objects.get(code="R99")
    assert (risk.likelihood, risk.impact, risk.score, risk.owner_agency) == (2, 5, 10, agency)
    assert sorted(p.number for p in risk.phases.all()) == [1, 2]
    first = risk.assessments.get()
    assert (first.rationale, first.assessed_by) == ("imported from new.csv", staff_member)
    assert risk.next_review_due is not None
    reasons = set(risk.history.values_list("history_change_reason", flat=True))
    assert reasons == {"import new.csv by sam.staff"}


@pytest.mark.parametrize(
    ("code", "status"), [("R1", "Closed"), ("R2", "Contingency active"), ("R98", "Closed")]
)
def test_workflow_statuses_are_never_set_by_import(tmp_path, exported, code, status):
    rows = _by_code(exported)
    row = rows.get(code) or dict(exported[0], code=code, version="")
    row["status"] = status
    before = _state()
    ok, output = _import(_write_csv(tmp_path / "status.csv", [row]))
    assert not ok
    assert "column Status" in output and "An import never sets them" in output
    assert _state() == before


def test_dry_run_writes_nothing(tmp_path, exported):
    rows = _by_code(exported)
    _bump(rows["R1"])
    rows["R2"]["owner"] = "Dry Run"
    before = _state()
    ok, output = _import(_write_csv(tmp_path / "dry.csv", exported), "--dry-run")
    assert ok, output
    assert "2 updated (1 re-assessed)" in output and "dry run: nothing was written" in output
    assert _state() == before


def test_machine_names_and_labels_are_read(tmp_path, exported):
    """The API's CSV and the board's CSV before risks/columns.py name columns by machine
    names (`likelihood_level`, or `likelihood`): they work too, and a rating can be edited as
    its label alone."""
    row = _by_code(exported)["R5"]
    new_level = int(row["likelihood_level"]) % 5 + 1
    label = dict(read_labels())[new_level]
    machine = [
        {
            "code": row["code"],
            "title": row["title"],
            "owner": row["owner"],
            "likelihood": row["likelihood_level"],  # the older board CSV's name
            "likelihood_label": label,
            "version": row["version"],
        }
    ]
    ok, output = _import(_write_csv(tmp_path / "machine.csv", machine, machine=True))
    assert ok, output
    assert Risk.objects.get(code="R5").likelihood == new_level


def read_labels():
    from risks.models import Axis, RatingLevel

    return RatingLevel.objects.filter(axis=Axis.LIKELIHOOD).values_list("level", "label")


def test_level_and_label_edited_differently_is_an_error(tmp_path, exported):
    row = _by_code(exported)["R1"]
    old = int(row["likelihood_level"])
    others = [(level, label) for level, label in read_labels() if level != old]
    row["likelihood_level"] = str(others[0][0])
    row["likelihood_label"] = others[1][1]
    ok, output = _import(_write_csv(tmp_path / "both.csv", [row]))
    assert not ok
    assert "column Likelihood level: says" in output


def test_a_duplicate_code_is_an_error(tmp_path, exported):
    ok, output = _import(_write_csv(tmp_path / "dup.csv", [exported[0], exported[0]]))
    assert not ok
    assert f"{exported[0]['code']} is also on row 2" in output


def test_unknown_columns_are_refused(tmp_path, exported):
    ok, output = _import(_write_csv(tmp_path / "x.csv", [dict(exported[0], Titel="x")]))
    assert not ok
    assert "unknown columns 'Titel'" in output


def test_formula_cells_stay_text_in_csv(tmp_path, exported):
    row = _by_code(exported)["R1"]
    row["title"] = '\'=HYPERLINK("http://example.com","click")'  # as the export writes it
    row["owner"] = "'+1 555 0100"
    ok, output = _import(_write_csv(tmp_path / "formula.csv", [row]))
    assert ok, output
    risk = Risk.objects.get(code="R1")
    assert risk.title == '=HYPERLINK("http://example.com","click")'
    assert risk.owner == "+1 555 0100"


def _risks_sheet(path):
    book = load_workbook(path)
    sheet = book["Risks"]
    header_row = next(r for r in sheet.iter_rows() if r[0].value == HEADER["code"])
    return book, sheet, [cell.value for cell in header_row], header_row[0].row


def test_xlsx_round_trip_with_formula_cells(tmp_path, staff_client, seed, staff_member):
    response = staff_client.get("/risks/export.xlsx")
    path = tmp_path / "register.xlsx"
    path.write_bytes(response.content)
    book, sheet, header, header_row = _risks_sheet(path)
    code_col = header.index(HEADER["code"])
    lik_col = header.index(HEADER["likelihood_level"])
    title_col = header.index(HEADER["title"])
    row = next(r for r in sheet.iter_rows(min_row=header_row + 1) if r[code_col].value == "R2")
    old = row[lik_col].value
    row[lik_col].value = old % 5 + 1
    row[title_col].value = "=1+1"  # a real formula cell in the workbook
    book.save(path)
    assessments = Assessment.objects.count()

    ok, output = _import(path)

    assert ok, output
    risk = Risk.objects.get(code="R2")
    assert risk.likelihood == old % 5 + 1
    assert risk.title == "=1+1"  # its text, never its value
    assert Assessment.objects.count() == assessments + 1


def test_xlsx_reads_the_first_sheet_without_a_risks_sheet(tmp_path, exported):
    book = Workbook()
    sheet = book.active
    sheet.append(["Register as of today"])  # a title line above the header
    sheet.append(list(exported[0]))
    row = dict(exported[0], owner="From a plain workbook")
    sheet.append([int(v) if v.isdigit() else v for v in row.values()])
    path = tmp_path / "plain.xlsx"
    book.save(path)
    ok, output = _import(path)
    assert ok, output
    assert Risk.objects.get(code=row["code"]).owner == "From a plain workbook"


def test_a_file_that_is_not_a_register(tmp_path, staff_member):
    path = tmp_path / "notes.xlsx"
    path.write_bytes(b"not a workbook")
    ok, output = _import(path)
    assert not ok and "cannot be read" in output
    path = tmp_path / "notes.txt"
    path.write_text("x")
    ok, output = _import(path)
    assert not ok and "give a .csv or .xlsx file" in output


def test_the_command_runs_without_an_account(tmp_path, exported):
    _bump(_by_code(exported)["R1"])
    path = _write_csv(tmp_path / "cli.csv", exported)
    call_command("import_register", str(path), stdout=io.StringIO())
    reason = Risk.history.filter(code="R1").latest("history_date").history_change_reason
    assert reason.startswith("import cli.csv by ")


def test_rows_stream_from_the_file(tmp_path, exported):
    """read_rows yields one row at a time: the CSV is not read whole."""
    path = _write_csv(tmp_path / "stream.csv", exported)
    rows = read_rows(path, name=path.name)
    assert next(rows)[0] == 1
    assert next(rows)[1][0] == exported[0]["code"]
    rows.close()


def test_the_service_reports_without_the_command(exported, staff_member):
    header = list(exported[0])
    rows = [(1, header), *((n, list(r.values())) for n, r in enumerate(exported, start=2))]
    report = register_import(rows=rows, user=staff_member, source_name="x.csv", dry_run=True)
    assert report.ok and report.unchanged == 5 and not report.written


def test_a_row_only_the_database_refuses_is_named(tmp_path, exported):
    """The chunk is checked in memory and written at once; a row that passes the field checks
    but not a check constraint fails the chunk, whose rows are then redone one by one through
    the services, so the report still names the row."""
    rows = _by_code(exported)
    _bump(rows["R2"])
    r1 = rows["R1"]
    r1["inherent_likelihood_level"], r1["inherent_likelihood_label"] = "3", ""
    r1["inherent_impact_level"], r1["inherent_impact_label"] = "", ""
    before = _state()

    ok, output = _import(_write_csv(tmp_path / "half.csv", exported))

    assert not ok
    r1_row = [row["code"] for row in exported].index("R1") + 2
    assert f"row {r1_row}: Give both inherent likelihood and impact, or neither." in output
    assert "1 errors" in output
    assert _state() == before


def _shared_strings_workbook(rows: list[list[str]], *, gap_after: int = 0) -> bytes:
    """The rows in a workbook as Excel saves it: every text in the shared strings table,
    numbers as numbers, one empty row left out after row `gap_after` (as a sheet's XML leaves
    out empty rows)."""
    strings: dict[str, int] = {}
    xml = []
    number = 0
    for cells in rows:
        number += 1 + (number == gap_after and gap_after > 0)
        row = []
        for column, text in enumerate(cells, start=1):
            ref = f"{get_column_letter(column)}{number}"
            if text == "":
                continue
            if text.isdigit():
                row.append(f'<c r="{ref}"><v>{text}</v></c>')
            else:
                index = strings.setdefault(text, len(strings))
                row.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
        xml.append(f'<row r="{number}">{"".join(row)}</row>')
    escape = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    shared = [
        '<si><t xml:space="preserve">'
        + "".join(escape.get(char, char) for char in text)
        + "</t></si>"
        for text in strings
    ]
    return book("".join(xml), shared=shared)


def test_xlsx_as_excel_saves_it_shared_strings_and_a_formula(tmp_path, exported, staff_member):
    rows = _by_code(exported)
    _bump(rows["R1"])
    rows["R2"]["owner"] = "Shared strings"
    rows["R3"]["title"] = '\'=HYPERLINK("http://example.com","click")'  # as exported
    header = [HEADER[name] for name in exported[0]]
    path = tmp_path / "excel.xlsx"
    path.write_bytes(
        _shared_strings_workbook([header, *([row[n] for n in exported[0]] for row in exported)])
    )
    assessments = Assessment.objects.count()

    ok, output = _import(path)

    assert ok, output
    assert "3 updated (1 re-assessed)" in output
    assert Assessment.objects.count() == assessments + 1
    assert Risk.objects.get(code="R2").owner == "Shared strings"
    assert Risk.objects.get(code="R3").title == '=HYPERLINK("http://example.com","click")'


def test_xlsx_errors_name_the_row_as_the_sheet_numbers_it(tmp_path, exported):
    """A sheet's XML leaves empty rows out; the report still counts them."""
    rows = _by_code(exported)
    rows["R3"]["category"] = "Astrology"
    header = [HEADER[name] for name in exported[0]]
    path = tmp_path / "gap.xlsx"
    path.write_bytes(
        _shared_strings_workbook(
            [header, *([row[n] for n in exported[0]] for row in exported)], gap_after=1
        )
    )
    ok, output = _import(path)
    assert not ok
    r3_row = [row["code"] for row in exported].index("R3") + 3  # header, empty row, rows
    assert f"row {r3_row}, column Category: 'Astrology' is not one of" in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 a broken zip", "not a zip archive"),
        ("no sheet part", "lacks its part 'xl/worksheets/sheet1.xml'"),
        ("a far column", "beyond column 1,024"),
    ],
)
def test_a_broken_workbook_is_a_clear_error(tmp_path, staff_member, content, message):
    if content == "no sheet part":
        content = book("", drop=("xl/worksheets/sheet1.xml",))
    elif content == "a far column":
        content = book('<row r="1"><c r="ZZZ1"><v>1</v></c></row>')
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    before = _state()
    ok, output = _import(path)
    assert not ok
    assert "The XLSX file cannot be read" in output and message in output
    assert _state() == before
