"""The admin's import: upload, preview (nothing written), confirm; Staff only."""

from __future__ import annotations

import csv
import io
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from risks.models import Assessment, Risk
from tests.test_xlsx_rows import book

pytestmark = pytest.mark.django_db

URL = "/admin/risks/risk/import/"
CONFIRM = "/admin/risks/risk/process_import/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"


def _edited_export(client) -> bytes:
    response = client.get("/risks/export.csv")
    title, text = b"".join(response.streaming_content).decode("utf-8-sig").split("\r\n", 1)
    rows = list(csv.DictReader(io.StringIO(text)))  # the board's human headers
    for row in rows:
        if row["Code"] == "R1":
            row["Likelihood level"] = str(int(row["Likelihood level"]) % 5 + 1)
        if row["Code"] == "R2":
            row["Owner"] = "Through the admin"
    out = io.StringIO()
    out.write(title + "\r\n")  # the filters line stays, as a spreadsheet would save it
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _upload(client, content: bytes, name="edited.csv", fmt=CSV_FORMAT):
    return client.post(
        URL, {"format": fmt, "import_file": SimpleUploadedFile(name, content, "text/csv")}
    )


def test_staff_preview_then_confirm(staff_client, seed, staff_member):
    content = _edited_export(staff_client)
    assert URL in staff_client.get("/admin/risks/risk/").content.decode()  # the Import button
    assert staff_client.get(URL).status_code == HTTPStatus.OK
    assessments = Assessment.objects.count()
    history = Risk.history.count()

    preview = _upload(staff_client, content)

    assert preview.status_code == HTTPStatus.OK
    page = preview.content.decode()
    assert "re-assessed" in page and "Through the admin" in page
    assert (Assessment.objects.count(), Risk.history.count()) == (assessments, history)
    confirm = preview.context["confirm_form"]
    assert confirm is not None

    done = staff_client.post(CONFIRM, confirm.initial, follow=True)

    assert done.status_code == HTTPStatus.OK
    assert "Import finished: 0 new, 2 updated" in done.content.decode()
    assert Assessment.objects.count() == assessments + 1
    assert Risk.objects.get(code="R2").owner == "Through the admin"
    reasons = set(
        Risk.history.order_by("-history_id")[:2].values_list("history_change_reason", flat=True)
    )
    assert reasons == {"import edited.csv by sam.staff"}


def test_preview_lists_errors_and_offers_no_confirm(staff_client, seed):
    content = _edited_export(staff_client).replace(b"Political and legislative", b"Astrology")
    preview = _upload(staff_client, content)
    assert preview.status_code == HTTPStatus.OK
    assert "confirm_form" not in preview.context
    page = preview.content.decode()
    assert "Astrology" in page and "Category" in page


def test_xlsx_through_the_admin(staff_client, seed):
    workbook = staff_client.get("/risks/export.xlsx").content
    preview = _upload(staff_client, workbook, name="register.xlsx", fmt=XLSX_FORMAT)
    assert preview.status_code == HTTPStatus.OK
    assert preview.context["confirm_form"] is not None  # the Risks sheet, all unchanged
    assert "Skipped" in preview.content.decode()


@pytest.mark.parametrize("persona", ["board_member", "auditor", "outsider"])
def test_import_is_refused_to_everyone_but_staff(client, seed, persona, request):
    client.force_login(request.getfixturevalue(persona))
    for url in (URL, CONFIRM):
        response = client.post(url, {"format": CSV_FORMAT})
        # not admin staff: sent to the admin's sign-in; staff without the permission: 403
        assert response.status_code in (HTTPStatus.FOUND, HTTPStatus.FORBIDDEN)
        if response.status_code == HTTPStatus.FOUND:
            assert "/admin/login/" in response["Location"]
    assert not Risk.history.filter(history_change_reason__startswith="import").exists()


def test_the_auditor_gets_403(client, seed, auditor):
    client.force_login(auditor)
    assert client.get(URL).status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize(
    "content",
    [
        b"not a workbook",
        b"PK\x03\x04" + b"\0" * 64,
        # A zip, but its workbook names a sheet the archive lacks.
        "missing sheet",
    ],
)
def test_a_broken_workbook_is_a_form_error_not_a_500(staff_client, seed, content):
    if content == "missing sheet":
        content = book("", drop=("xl/worksheets/sheet1.xml",))
    before = (Assessment.objects.count(), Risk.history.count())
    preview = _upload(staff_client, content, name="broken.xlsx", fmt=XLSX_FORMAT)
    assert preview.status_code == HTTPStatus.OK
    assert "confirm_form" not in preview.context
    assert "cannot be read" in preview.content.decode()
    assert (Assessment.objects.count(), Risk.history.count()) == before


def test_admin_errors_name_the_row_as_the_sheet_numbers_it(staff_client, seed):
    """The admin carries each row's number: a sheet's empty rows are left out of its XML, and
    the error still names the row the spreadsheet shows."""
    workbook = staff_client.get("/risks/export.xlsx").content
    workbook = load_workbook(io.BytesIO(workbook))
    sheet = workbook["Risks"]
    header_row = next(r for r in sheet.iter_rows() if r[0].value == "Code")
    category = next(c.column for c in header_row if c.value == "Category")
    first = header_row[0].row + 1
    sheet.insert_rows(first)  # an empty row between the header and the risks
    sheet.cell(row=first + 2, column=category).value = "Astrology"
    out = io.BytesIO()
    workbook.save(out)
    preview = _upload(staff_client, out.getvalue(), name="gap.xlsx", fmt=XLSX_FORMAT)
    assert preview.status_code == HTTPStatus.OK
    assert "confirm_form" not in preview.context
    page = preview.content.decode()
    assert "Astrology" in page
    assert f"<td>{first + 2}</td>" in page or f">{first + 2}<" in page
