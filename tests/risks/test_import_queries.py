"""The import's cost does not grow per row: rows are checked in memory and written a chunk at a
time (risks/importing.py over services.RiskBatch), so N changed rows cost a constant number
of statements per chunk of `CHUNK` rows, not a few dozen per row."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from risks import exports, importing, selectors
from risks.importing import register_import
from risks.models import Assessment, Risk
from tests.factories import AgencyFactory, PhaseFactory, RiskFactory

pytestmark = pytest.mark.django_db

# Per file: the lookups (agencies, phases, key actions, labels) and the rating scale. Per
# chunk: the locked read of its risks, three link reads, the bulk writes (risks, new links:
# a read, a delete and an insert per kind changed, assessments, history and its three link
# snapshots) and the savepoints around them. Measured: 14 for a chunk of new ratings and
# owners, 26 with new risks, a new owner agency and new phases.
PER_FILE = 7
PER_CHUNK = 28


def _rows(risks, *, edit) -> list[tuple[int, list]]:
    """The board CSV of `risks`, each row passed through `edit`, as register_import reads it."""
    text = "".join(exports.register_csv(risks=risks, scale=selectors.rating_scale()))
    _filters_line, table = text.lstrip("\ufeff").split("\r\n", 1)
    rows = list(csv.DictReader(io.StringIO(table)))
    header = list(rows[0])
    edited = [edit(number, row) for number, row in enumerate(rows, start=1)]
    return [(1, header), *((n, list(r.values())) for n, r in enumerate(edited, start=2))]


def _rerate_and_move(number: int, row: dict) -> dict:
    row["Likelihood level"] = str(int(row["Likelihood level"]) % 5 + 1)
    row["Likelihood"] = ""
    row["Owner"] = f"Imported owner {number}"
    return row


def _renamed(number: int, row: dict) -> dict:
    return dict(row, Code=f"N{number}", Version="")


def _import(rows, user):
    with CaptureQueriesContext(connection) as queries:
        report = register_import(rows=rows, user=user, source_name="q.csv")
    assert report.ok, report.errors[:3]
    return report, len(queries)


@pytest.mark.parametrize("n", [3, 30])
def test_changed_rows_cost_a_constant_per_chunk(n, staff_member, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK", 10)
    risks = RiskFactory.create_batch(n)
    assessments = Assessment.objects.count()
    chunks = -(-n // 10)

    report, queries = _import(
        _rows(Risk.objects.order_by("code"), edit=_rerate_and_move), staff_member
    )

    assert (report.updated, report.assessed) == (n, n)
    assert Assessment.objects.count() == assessments + n
    assert queries <= PER_FILE + PER_CHUNK * chunks, queries
    moved = Risk.objects.get(pk=risks[0].pk)
    assert moved.owner.startswith("Imported owner") and moved.version == risks[0].version + 1
    last = moved.history.latest("history_date")
    assert last.history_change_reason == f"import q.csv by {staff_member.username}"


def _relinked(number: int, row: dict) -> dict:
    row = _rerate_and_move(number, row)
    if number <= 5:  # a new owner agency and phases: a foreign key and a link table
        row["Owner agency"], row["Phases"] = "DEA", "2"
    return row


def test_new_and_changed_rows_together(staff_member):
    dea, one, two = AgencyFactory(code="DEA"), PhaseFactory(number=1), PhaseFactory(number=2)
    RiskFactory.create_batch(20, phases=[one])
    changed = _rows(Risk.objects.order_by("code"), edit=_relinked)
    new = _rows(Risk.objects.order_by("code"), edit=_renamed)[1:]
    rows = [*changed, *((number + 100, cells) for number, cells in new)]

    report, queries = _import(rows, staff_member)

    assert (report.created, report.updated, report.assessed) == (20, 20, 20)
    assert queries <= PER_FILE + PER_CHUNK, queries
    relinked = Risk.objects.filter(owner_agency=dea)
    assert relinked.count() == 5
    assert {tuple(risk.phases.all()) for risk in relinked} == {(two,)}
    snapshot = relinked[0].history.latest("history_date")
    assert [link.phase for link in snapshot.phases.all()] == [two]
    assert Risk.objects.exclude(owner_agency=dea).filter(phases=one).count() == 35
    created = Risk.objects.get(code="N1")
    assert created.assessments.get().rationale == "imported from q.csv"
    assert created.history.get().history_change_reason.startswith("import q.csv by ")
