"""Import a register from CSV or XLSX in the board export's columns: export, edit in a
spreadsheet, import again (`manage.py import_register`, and the admin's import with preview).

One service, `register_import`, does every write, through the register's own services:
- a new code is `risk_create`, its first assessment from the rating columns;
- an existing code needs the row's `version` (what it was exported at): an older one is
  refused; a changed likelihood or impact is `risk_assess`, other changes `risk_update`;
- workflow statuses (closed, contingency active) are never set by import;
- agencies, phases and key actions are matched by code or name, never created;
- all or nothing: every row is tried in one transaction, every error is listed with its row
  and column, and any error (or a dry run) rolls the whole transaction back.

Cells are read as text: a formula is its text, never evaluated, and the apostrophe the exports
put before a formula-looking cell is taken off again. Rows are read one at a time (csv, or
common.xlsx_rows, which streams the sheet's XML) and handled `CHUNK` at a time, so memory does
not grow with the file.
Each chunk's risks are read under lock in one query; its rows are checked in memory against the
services' rules (services.RiskBatch) and written together (services.risk_batch_save): a few
dozen statements per chunk, where the services one row at a time took about a hundred per row.
If the database refuses the chunk, its rows are redone one by one through the services so the
report names the row.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from common.spreadsheet import is_formula_like
from common.versions import StaleEdit, version_check
from common.xlsx_rows import SheetError, sheet_rows
from risks import rules, selectors, services
from risks.columns import REGISTER_COLUMNS
from risks.models import Axis, Confidence, RatingLevel, Risk
from roadmap.models import Agency, KeyAction, Phase

CHUNK = 500
HEADER_SEARCH_ROWS = 10  # a sheet may carry a title or filters line above its header
REASON_MAX = 100  # simple-history's change reason column

# --- The columns -------------------------------------------------------------------------
# One small table: the fields the import writes, by the register's machine column names
# (risks/columns.py, the API's CSV). Each column is also accepted by its human header (the
# board's CSV and workbook), read from risks/columns.py, and a few older machine names are
# aliases. A level can be given as its number or its label ("Medium-High"), so a label
# column works as well. Every other column of the export is derived or set by a workflow:
# read, and left alone.

TEXT, CHOICE, LEVEL, LABEL, AGENCY, AGENCIES, PHASES, KEY_ACTIONS, NUMBER, VERSION, IGNORED = (
    "text",
    "choice",
    "level",
    "label",
    "agency",
    "agencies",
    "phases",
    "key_actions",
    "number",
    "version",
    "ignored",
)


@dataclass(frozen=True)
class Spec:
    field: str
    kind: str


FIELDS: dict[str, Spec] = {
    "code": Spec("code", TEXT),
    "title": Spec("title", TEXT),
    "statement": Spec("statement", TEXT),
    "category": Spec("category", CHOICE),
    "status": Spec("status", CHOICE),
    "owner": Spec("owner", TEXT),
    "owner_agency": Spec("owner_agency", AGENCY),
    "supporting_agencies": Spec("supporting_agencies", AGENCIES),
    "phases": Spec("phases", PHASES),
    "key_actions": Spec("key_actions", KEY_ACTIONS),
    "likelihood_level": Spec("likelihood", LEVEL),
    "likelihood_label": Spec("likelihood", LABEL),
    "impact_level": Spec("impact", LEVEL),
    "impact_label": Spec("impact", LABEL),
    "confidence": Spec("confidence", CHOICE),
    "inherent_likelihood_level": Spec("inherent_likelihood", LEVEL),
    "inherent_likelihood_label": Spec("inherent_likelihood", LABEL),
    "inherent_impact_level": Spec("inherent_impact", LEVEL),
    "inherent_impact_label": Spec("inherent_impact", LABEL),
    "target_likelihood_level": Spec("target_likelihood", LEVEL),
    "target_likelihood_label": Spec("target_likelihood", LABEL),
    "target_impact_level": Spec("target_impact", LEVEL),
    "target_impact_label": Spec("target_impact", LABEL),
    "response": Spec("response", CHOICE),
    "mitigation_strategy": Spec("mitigation_strategy", TEXT),
    "contingency_plan": Spec("contingency_plan", TEXT),
    "trigger_conditions": Spec("trigger_conditions", TEXT),
    "review_frequency_days": Spec("review_frequency_days", NUMBER),
    "version": Spec("version", VERSION),
}
# The board CSV's machine names before risks/columns.py, and the model's own field names.
ALIASES = {
    "likelihood": "likelihood_level",
    "impact": "impact_level",
    "target_likelihood": "target_likelihood_level",
    "target_impact": "target_impact_level",
    "inherent_likelihood": "inherent_likelihood_level",
    "inherent_impact": "inherent_impact_level",
}


def _headers() -> dict[str, Spec]:
    headers: dict[str, Spec] = {}
    for column in REGISTER_COLUMNS:
        spec = FIELDS.get(column.name, Spec(column.name, IGNORED))
        headers[column.name] = headers[column.header] = spec
    for alias, name in ALIASES.items():
        headers.setdefault(alias, FIELDS[name])
    return headers


HEADERS = _headers()
CHOICES = {
    "category": Risk.Category.choices,
    "status": Risk.Status.choices,
    "confidence": Confidence.choices,
    "response": Risk.Response.choices,
}
AXES = {
    "likelihood": Axis.LIKELIHOOD,
    "target_likelihood": Axis.LIKELIHOOD,
    "inherent_likelihood": Axis.LIKELIHOOD,
    "impact": Axis.IMPACT,
    "target_impact": Axis.IMPACT,
    "inherent_impact": Axis.IMPACT,
}
DESCRIPTIVE = (
    "title",
    "statement",
    "category",
    "status",
    "owner",
    "owner_agency",
    "target_likelihood",
    "target_impact",
    "inherent_likelihood",
    "inherent_impact",
    "confidence",
    "response",
    "mitigation_strategy",
    "contingency_plan",
    "trigger_conditions",
    "review_frequency_days",
)
LINKS = ("supporting_agencies", "phases", "key_actions")


# --- The report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int  # the row as a spreadsheet numbers it (the header is usually row 1)
    column: str  # the header as written in the file; "" for the whole row or file
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}{f', column {self.column}' if self.column else ''}: {self.message}"


@dataclass(frozen=True)
class RowOutcome:
    row: int
    code: str
    action: str  # "new", "update" or "skip"
    changes: tuple[str, ...] = ()


@dataclass
class ImportReport:
    source_name: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    assessed: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    outcomes: list[RowOutcome] | None = None  # per row, only when asked (the admin preview)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def summary(self) -> str:
        verb = "would be" if not self.written else "were"
        head = (
            f"{self.source_name}: {self.rows} rows; {self.created} new risks, "
            f"{self.updated} updated ({self.assessed} re-assessed), {self.unchanged} unchanged"
        )
        if self.errors:
            return f"{head}; {len(self.errors)} errors, so nothing was written."
        return f"{head} {verb} written{' (dry run: nothing was written)' * self.dry_run}."


class ImportFileError(ValueError):
    """The file cannot be read as a register at all (its format or its header)."""


# --- Reading files ----------------------------------------------------------------------


def read_rows(file, *, name: str) -> Iterator[tuple[int, list]]:
    """(row number, cells) for each row of a CSV or XLSX file (a path or a binary file
    object), one at a time. XLSX: the "Risks" sheet if there is one, else the first."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return _csv_rows(file)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(file)
    raise ImportFileError(f"{name}: give a .csv or .xlsx file.")


def _csv_rows(file) -> Iterator[tuple[int, list]]:
    binary = open(file, "rb") if isinstance(file, str | Path) else file  # noqa: SIM115
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        yield from enumerate(csv.reader(text), start=1)
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImportFileError(f"The CSV file cannot be read: {error}") from error
    finally:
        text.detach()
        if binary is not file:
            binary.close()


def _xlsx_rows(file) -> Iterator[tuple[int, list]]:
    """The "Risks" sheet, or the first: its rows with a value, as common.xlsx_rows reads them
    (a formula as its text, never its result)."""
    try:
        yield from sheet_rows(file, prefer="Risks")
    except SheetError as error:
        raise ImportFileError(f"The XLSX file cannot be read: {error}") from error


def cell_text(value) -> str:
    """A cell as text. A formula stays its text; the exports' neutralising apostrophe goes."""
    if value.__class__ is str:
        text = value
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return "Yes" if value else "No"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    else:
        text = str(value)
    if text[:1] == "'" and is_formula_like(text[1:]):
        text = text[1:]  # the apostrophe common.spreadsheet.neutralise put there
    return text.strip()


# --- The import ----------------------------------------------------------------------------


@dataclass
class _Lookups:
    """The small tables rows refer to, read once."""

    agencies: dict[str, int]
    phases: dict[str, int]
    key_actions: dict[str, list[int]]
    labels: dict[str, dict[str, int]]

    @classmethod
    def load(cls) -> _Lookups:
        agencies: dict[str, int] = {}
        for pk, code, name in Agency.objects.values_list("pk", "code", "name"):
            agencies[name.casefold()] = pk
            agencies[code.casefold()] = pk
        phases: dict[str, int] = {}
        for pk, number, name in Phase.objects.values_list("pk", "number", "name"):
            for key in (str(number), name, f"Phase {number}", f"Phase {number}: {name}"):
                phases[key.casefold()] = pk
        key_actions: dict[str, list[int]] = {}
        for pk, title in KeyAction.objects.values_list("pk", "title"):
            key_actions.setdefault(title.casefold(), []).append(pk)
            key_actions.setdefault(str(pk), []).append(pk)
        labels: dict[str, dict[str, int]] = {Axis.LIKELIHOOD: {}, Axis.IMPACT: {}}
        for axis, level, label in RatingLevel.objects.values_list("axis", "level", "label"):
            labels[axis][label.casefold()] = level
        return cls(agencies, phases, key_actions, labels)


class _RowErrors(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(errors)
        self.errors = errors  # (field, message)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ";").split(";") if part.strip()]


class _Parser:
    def __init__(self, lookups: _Lookups):
        self.lookups = lookups

    def value(self, spec: Spec, text: str):
        """The model value of one cell; ValueError with the reason when it is not one."""
        kind = spec.kind
        if kind == TEXT:
            return text
        if kind == CHOICE:
            return self._choice(spec.field, text)
        if kind in (LEVEL, LABEL):
            return self._level(spec.field, text)
        if kind == AGENCY:
            return self._agency(text) if text else None
        if kind == AGENCIES:
            return {self._agency(part) for part in _split(text)}
        if kind == PHASES:
            return {self._phase(part) for part in _split(text)}
        if kind == KEY_ACTIONS:
            return {self._key_action(part) for part in _split(text)}
        if kind in (NUMBER, VERSION):
            return self._number(text)
        raise AssertionError(kind)

    def _choice(self, name: str, text: str) -> str:
        if not text:
            return ""
        for value, label in CHOICES[name]:
            if text.casefold() in (value.casefold(), str(label).casefold()):
                return value
        known = ", ".join(str(label) for _, label in CHOICES[name])
        raise ValueError(f"{text!r} is not one of: {known}.")

    def _level(self, name: str, text: str) -> int | None:
        if not text:
            return None
        if text.isdigit():
            return int(text)
        labels = self.lookups.labels[AXES[name]]
        if text.casefold() in labels:
            return labels[text.casefold()]
        raise ValueError(f"{text!r} is neither a level (1-5) nor one of: {', '.join(labels)}.")

    def _agency(self, text: str) -> int:
        try:
            return self.lookups.agencies[text.casefold()]
        except KeyError:
            raise ValueError(f"No agency has the code or name {text!r}.") from None

    def _phase(self, text: str) -> int:
        try:
            return self.lookups.phases[text.casefold()]
        except KeyError:
            raise ValueError(f"No phase has the number or name {text!r}.") from None

    def _key_action(self, text: str) -> int:
        found = self.lookups.key_actions.get(text.casefold(), [])
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(f"{len(found)} key actions are titled {text!r}: give its id.")
        raise ValueError(f"No key action has the id or title {text!r}.")

    def _number(self, text: str) -> int | None:
        if not text:
            return None
        if not text.isdigit():
            raise ValueError(f"{text!r} is not a whole number.")
        return int(text)


@dataclass
class _Header:
    row: int
    columns: list[tuple[int, str, Spec]]  # (index, header as written, spec)

    def header_of(self, name: str) -> str:
        """The file's header for a model field, for error messages."""
        for _, header, spec in self.columns:
            if spec.field == name and spec.kind != LABEL:
                return header
        for _, header, spec in self.columns:
            if spec.field == name:
                return header
        return name if name != "__all__" else ""


def _find_header(rows: Iterator[tuple[int, list]]) -> _Header:
    for number, cells in islice(rows, HEADER_SEARCH_ROWS):
        texts = [cell_text(cell) for cell in cells]
        if not any(HEADERS.get(text, Spec("", "")).field == "code" for text in texts):
            continue
        columns, unknown, seen = [], [], {}
        for index, text in enumerate(texts):
            if not text:
                continue
            spec = HEADERS.get(text)
            if spec is None:
                unknown.append(text)
            elif spec.kind != IGNORED:
                if spec in seen:
                    raise ImportFileError(
                        f"Columns {seen[spec]!r} and {text!r} both give the {spec.field}."
                    )
                seen[spec] = text
                columns.append((index, text, spec))
        if unknown:
            raise ImportFileError(
                f"Row {number}: unknown columns {', '.join(map(repr, unknown))}. Use the "
                "columns of the register's export (/risks/export.csv or .xlsx)."
            )
        return _Header(number, columns)
    raise ImportFileError(
        f"No header row with a 'code' column in the first {HEADER_SEARCH_ROWS} rows."
    )


@dataclass
class _Row:
    number: int
    code: str
    values: dict  # field -> model value, for the columns present
    labels: dict[str, tuple[str, int | None]]  # level field -> (header, level its label names)
    errors: list[tuple[str, str]]  # (header, message)

    def levels(self, header: _Header, current: Risk | None) -> None:
        """Settle each level given by its number, its label or both. Both may be in the file
        (the export has both); the one edited counts. Edited both ways differently: an error."""
        for name, (label_header, label) in self.labels.items():
            if label is None:
                continue
            level = self.values.get(name)
            old = getattr(current, name) if current is not None else None
            if level is None or level == label:
                self.values[name] = label
            elif current is not None and level == old:
                self.values[name] = label  # only the label was edited
            elif current is not None and label == old:
                pass  # only the level was edited
            else:
                raise _RowErrors(
                    [
                        (
                            name,
                            f"says {level} but {label_header} says {label}: change one and "
                            "match or clear the other.",
                        )
                    ]
                )


def _parse(header: _Header, number: int, cells: list, parser: _Parser) -> _Row:
    values: dict = {}
    labels: dict[str, tuple[str, int | None]] = {}
    errors: list[tuple[str, str]] = []
    for index, text_header, spec in header.columns:
        text = cell_text(cells[index]) if index < len(cells) else ""
        try:
            value = parser.value(spec, text)
        except ValueError as error:
            errors.append((text_header, str(error)))
            continue
        if spec.kind == LABEL:
            labels[spec.field] = (text_header, value)
        else:
            values[spec.field] = value
    return _Row(number, values.get("code", ""), values, labels, errors)


def _reason(source_name: str, actor: str) -> str:
    reason = f"import {source_name} by {actor}"
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"


def register_import(
    *,
    rows: Iterable[tuple[int, list]],
    user,
    source_name: str,
    dry_run: bool = False,
    actor: str | None = None,
    collect_outcomes: bool = False,
) -> ImportReport:
    """Import `rows` ((row number, cells), the header first) into the register. Returns the
    report; nothing is written when it has errors or `dry_run` is set. `actor` names who
    imports in the history's reason when there is no `user` (the command line)."""
    source_name = Path(source_name).name
    report = ImportReport(
        source_name=source_name, dry_run=dry_run, outcomes=[] if collect_outcomes else None
    )
    actor = user.get_username() if user is not None else (actor or "command line")
    reason = _reason(source_name, actor)
    rows = iter(rows)
    try:
        header = _find_header(rows)
    except ImportFileError as error:
        report.errors.append(RowError(0, "", str(error)))
        return report
    parser = _Parser(_Lookups.load())
    importer = _Importer(
        header=header, user=user, reason=reason, report=report, scale=selectors.rating_scale()
    )
    with transaction.atomic():
        try:
            while chunk := list(islice(rows, CHUNK)):
                parsed = [
                    _parse(header, number, cells, parser)
                    for number, cells in chunk
                    if any(cell not in (None, "") for cell in cells)
                ]
                importer.chunk(parsed)
        except ImportFileError as error:
            report.errors.append(RowError(0, "", str(error)))
        if report.errors or dry_run:
            transaction.set_rollback(True)
    return report


class _Importer:
    def __init__(self, *, header: _Header, user, reason: str, report: ImportReport, scale):
        self.header, self.user, self.reason, self.report = header, user, reason, report
        self.scale = scale  # the rating scale, read once per file
        self.rationale = f"imported from {report.source_name}"
        self.seen: dict[str, int] = {}
        self.present = {spec.field for _, _, spec in header.columns}

    def error(self, row: int, column: str, message: str) -> None:
        self.report.errors.append(RowError(row, column, message))

    def chunk(self, rows: list[_Row]) -> None:
        """Check every row of the chunk against the rules in memory (services.RiskBatch),
        then write the rows that passed in a few statements (services.risk_batch_save)."""
        codes = [row.code for row in rows if row.code]
        existing = services.RiskBatch.lock(codes)  # one read, and the rows stay locked
        ids = [risk.pk for risk in existing.values()]
        # The links as ids, one query each per chunk (prefetching model instances costs more).
        self.links = {name: _link_ids(name, ids) for name in LINKS if name in self.present}
        batch = services.RiskBatch(user=self.user, change_reason=self.reason, scale=self.scale)
        planned = self.plan(rows, existing, batch)
        if not batch:
            return
        try:
            services.risk_batch_save(batch=batch)
        except (ValidationError, IntegrityError):
            # The database refused a row the checks passed (a constraint, a code saved by
            # someone else meanwhile): redo the rows one by one through the services, each
            # its own savepoint, so the report names the row. The import rolls back anyway.
            fresh = {risk.code: risk for risk in Risk.objects.filter(code__in=codes)}
            for row in planned:
                self.one(row, lambda row: self.write_one(row, fresh.get(row.code)))

    def plan(self, rows: list[_Row], existing: dict[str, Risk], batch) -> list[_Row]:
        """The rows the checks passed, added to `batch`; the others' errors reported."""
        planned = []
        for row in rows:
            self.report.rows += 1
            for column, message in row.errors:
                self.error(row.number, column, message)
            if not row.code:
                self.error(row.number, self.header.header_of("code"), "Give the risk's code.")
                continue
            if row.code in self.seen:
                self.error(
                    row.number,
                    self.header.header_of("code"),
                    f"{row.code} is also on row {self.seen[row.code]}: one row per risk.",
                )
                continue
            self.seen[row.code] = row.number
            if row.errors:
                continue
            if self.one(row, lambda row: self.add(row, existing.get(row.code), batch)):
                planned.append(row)
        return planned

    def add(self, row: _Row, risk: Risk | None, batch) -> None:
        if risk is None:
            self.create(row, batch)
        else:
            self.update(row, risk, batch)

    def write_one(self, row: _Row, risk: Risk | None) -> None:
        # Each service is its own savepoint: a refused write leaves the transaction usable
        # for the next rows, and any error rolls the whole import back at the end.
        if risk is None:
            self.create(row, None, count=False)
        else:
            self.update(row, risk, None, count=False)

    def one(self, row: _Row, step) -> bool:
        """Run `step(row)`; an error is reported against the row. True when it passed."""
        try:
            step(row)
        except _RowErrors as failed:
            for name, message in failed.errors:
                self.error(row.number, self.header.header_of(name), message)
        except ValidationError as error:
            for name, messages in _messages(error):
                for message in messages:
                    self.error(row.number, self.header.header_of(name), message)
        except IntegrityError as error:
            self.error(row.number, "", f"The database refused the row: {error}")
        else:
            return True
        return False

    def outcome(self, row: _Row, action: str, changes: Iterable[str] = ()) -> None:
        if self.report.outcomes is not None:
            self.report.outcomes.append(RowOutcome(row.number, row.code, action, tuple(changes)))

    def create(self, row: _Row, batch, *, count: bool = True) -> None:
        row.levels(self.header, None)
        values = {k: v for k, v in row.values.items() if k not in ("version", "code")}
        status = values.get("status") or rules.OPEN
        if status in rules.WORKFLOW_STATUSES:
            raise _RowErrors([("status", f"A new risk cannot start {status}. " + _WORKFLOW)])
        values["status"] = status
        for name in ("likelihood", "impact"):
            if values.get(name) is None:
                raise _RowErrors([(name, "A new risk needs its current rating.")])
        for name in ("confidence", "response"):
            if not values.get(name):
                values.pop(name, None)
        confidence = values.pop("confidence", Confidence.MEDIUM)
        for name in LINKS:
            if name in values:
                values[name] = sorted(values[name])
        if values.get("owner_agency") is not None:
            values["owner_agency_id"] = values.pop("owner_agency")
        else:
            values.pop("owner_agency", None)
        if batch is not None:
            batch.create(code=row.code, rationale=self.rationale, confidence=confidence, **values)
        else:
            services.risk_create(
                user=self.user,
                code=row.code,
                rationale=self.rationale,
                confidence=confidence,
                change_reason=self.reason,
                **values,
            )
        if not count:
            return
        self.report.created += 1
        self.outcome(row, "new", [f"new risk rated {values['likelihood']}x{values['impact']}"])

    def update(self, row: _Row, risk: Risk, batch, *, count: bool = True) -> None:
        row.levels(self.header, risk)
        values = row.values
        version = values.get("version")
        if version is None:
            raise _RowErrors(
                [
                    (
                        "version",
                        f"{risk.code} exists: give the version you exported it at "
                        f"(now {risk.version}), so a newer change is not overwritten.",
                    )
                ]
            )
        if version != risk.version:
            try:
                version_check(risk, version)
            except StaleEdit as stale:
                raise _RowErrors([("version", stale.messages[0])]) from None
        changes: dict = {}
        for name in DESCRIPTIVE:
            if name not in values:
                continue
            new = values[name]
            old = risk.owner_agency_id if name == "owner_agency" else getattr(risk, name)
            if name in CHOICES and not new:
                continue  # an empty choice keeps the current one
            if isinstance(old, str):
                old = old.strip()
            if old != new:
                changes[name] = new
        for name in LINKS:
            if name in values and values[name] != self.links[name].get(risk.pk, set()):
                changes[name] = sorted(values[name])
        if "status" in changes and not rules.status_edit_allowed(risk.status, changes["status"]):
            raise _RowErrors([("status", _WORKFLOW)])
        likelihood = values.get("likelihood", risk.likelihood)
        impact = values.get("impact", risk.impact)
        rerated = (likelihood, impact) != (risk.likelihood, risk.impact)
        if likelihood is None or impact is None:
            raise _RowErrors([("likelihood" if likelihood is None else "impact", _RATED)])
        if not changes and not rerated:
            self.report.unchanged += 1
            self.outcome(row, "skip")
            return
        summary = [
            f"{name}: {_show(getattr(risk, name))} → {_show(new)}"
            if name not in LINKS and name != "owner_agency"
            else f"{name} changed"
            for name, new in changes.items()
        ]
        confidence = changes.pop("confidence", None) if rerated else None
        if changes:
            if "owner_agency" in changes:
                changes["owner_agency_id"] = changes.pop("owner_agency")
            if batch is not None:
                batch.update(risk=risk, expected_version=version, **changes)
            else:
                services.risk_update(
                    risk=risk,
                    user=self.user,
                    expected_version=version,
                    change_reason=self.reason,
                    **changes,
                )
                version = risk.version
        if rerated and batch is not None:
            batch.assess(
                risk=risk,
                expected_version=version,
                likelihood=likelihood,
                impact=impact,
                confidence=confidence or risk.confidence,
                rationale=self.rationale,
            )
        elif rerated:
            services.risk_assess(
                risk=risk,
                likelihood=likelihood,
                impact=impact,
                confidence=confidence or risk.confidence,
                rationale=self.rationale,
                user=self.user,
                expected_version=version,
                change_reason=self.reason,
            )
        if not count:
            return
        if rerated:
            self.report.assessed += 1
            summary.insert(0, f"re-assessed {likelihood}x{impact}")
        self.report.updated += 1
        self.outcome(row, "update", summary)


_WORKFLOW = rules.WORKFLOW_STATUS_MESSAGE + " An import never sets them."
_RATED = "An existing risk keeps a current rating: give its level."


def _show(value) -> str:
    text = "" if value is None else str(value)
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _link_ids(name: str, risk_ids: list[int]) -> dict[int, set[int]]:
    field = Risk._meta.get_field(name)
    target = f"{field.m2m_reverse_field_name()}_id"
    found: dict[int, set[int]] = {}
    rows = field.remote_field.through.objects.filter(risk_id__in=risk_ids)
    for risk_id, pk in rows.values_list("risk_id", target):
        found.setdefault(risk_id, set()).add(pk)
    return found


def _messages(error: ValidationError) -> Iterator[tuple[str, list[str]]]:
    if hasattr(error, "error_dict"):
        yield from error.message_dict.items()
    else:
        yield "__all__", error.messages


def import_file(
    path: str | Path, *, user, dry_run: bool = False, actor: str | None = None
) -> ImportReport:
    """Import a CSV or XLSX file from disk (the management command)."""
    path = Path(path)
    try:
        rows = read_rows(path, name=path.name)
        return register_import(
            rows=rows, user=user, source_name=path.name, dry_run=dry_run, actor=actor
        )
    except ImportFileError as error:
        report = ImportReport(source_name=path.name, dry_run=dry_run)
        report.errors.append(RowError(0, "", str(error)))
        return report
