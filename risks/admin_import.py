"""The admin's import (upload, preview, confirm) on django-import-export, over one service.

django-import-export brings the upload form, the temporary file between preview and confirm,
the preview table and the permission hook. Its `ModelResource` would save each row itself,
row by row, past the register's services; here `import_data` hands the rows to
`risks.importing.register_import` (all or nothing, through the services) and turns its report
into the library's `Result`. Its own CSV and XLSX formats are replaced as well: its XLSX reads
the first sheet with formulas evaluated (`data_only`), the board's workbook has its risks on the
"Risks" sheet, and a formula must stay text. README: "Importing a register"."""

from __future__ import annotations

import io
from collections import defaultdict
from types import SimpleNamespace

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import resources
from import_export.formats import base_formats
from import_export.results import Result, RowResult

from risks import importing
from risks.columns import REGISTER_COLUMNS
from risks.models import Risk

IMPORT_PERMISSIONS = ("risks.add_risk", "risks.change_risk", "risks.add_assessment")
PREVIEW_HEADERS = ["Row", "Code", "Changes"]


class _RegisterFormat:
    """Every row of the file as read by risks.importing (the header found there), its row
    number first: an XLSX sheet's empty rows are not read, and the errors name the row as
    the spreadsheet numbers it."""

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        data = in_stream.encode() if isinstance(in_stream, str) else in_stream
        rows = [
            [number, *cells]
            for number, cells in importing.read_rows(
                io.BytesIO(data), name=f"upload.{self.get_extension()}"
            )
        ]
        width = max((len(cells) for cells in rows), default=0)
        dataset = tablib.Dataset()
        for cells in rows:
            dataset.append([*cells, *[None] * (width - len(cells))])
        return dataset


class RegisterCSV(_RegisterFormat, base_formats.CSV):
    pass


class RegisterXLSX(_RegisterFormat, base_formats.XLSX):
    pass


class RegisterResource(resources.ModelResource):
    class Meta:
        model = Risk
        fields = ()

    def get_user_visible_fields(self):
        """The columns listed on the upload page: those the import reads."""
        names = [c.header for c in REGISTER_COLUMNS if c.name in importing.FIELDS]
        return [SimpleNamespace(column_name=name) for name in names]

    def import_data(self, dataset, dry_run: bool = False, **kwargs) -> Result:
        user = kwargs.get("user")
        rows = ((row[0], list(row[1:])) for row in dataset)  # _RegisterFormat's
        report = importing.register_import(
            rows=rows,
            user=user,
            source_name=kwargs.get("file_name") or "upload",
            dry_run=dry_run,
            collect_outcomes=True,
        )
        return _result(report)


def _result(report: importing.ImportReport) -> Result:
    result = Result()
    result.diff_headers = PREVIEW_HEADERS
    result.total_rows = report.rows
    errors: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for error in report.errors:
        errors[error.row][error.column or NON_FIELD_ERRORS].append(error.message)
    for number, by_column in sorted(errors.items()):
        result.append_invalid_row(
            number, {"Row": number or "file"}, ValidationError(dict(by_column))
        )
        result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
    if report.errors:
        return result
    for outcome in report.outcomes or []:
        row = RowResult()
        row.import_type = outcome.action
        row.diff = [outcome.row, outcome.code, "; ".join(outcome.changes)]
        row.object_repr = outcome.code
        result.append_row_result(row)
        result.increment_row_result_total(row)
    return result
