"""The register's rules, each in one place. Pure functions and query expressions: the model,
services, selectors, filters, serializers, exports, admin and generator all call these, and
tests check them without a database. README: "Where the rules live"."""

from __future__ import annotations

import datetime

from django.core.validators import RegexValidator
from django.db.models import F, Q

# --- The score ------------------------------------------------------------------------------


def score(likelihood: int | None, impact: int | None) -> int | None:
    """Likelihood x impact; None while either is unknown."""
    if likelihood is None or impact is None:
        return None
    return likelihood * impact


def score_expression(prefix: str = ""):
    """The same product in SQL, e.g. for `target_` or `inherent_` ratings."""
    return F(f"{prefix}likelihood") * F(f"{prefix}impact")


def above_appetite(score_value: int | None, appetite: int | None) -> bool | None:
    """Above the board's appetite; None when the board has stated none or the risk is unrated."""
    if appetite is None or score_value is None:
        return None
    return score_value > appetite


# --- Statuses that only a workflow sets --------------------------------------------------

OPEN, MONITORING, CONTINGENCY_ACTIVE, CLOSED = "open", "monitoring", "contingency_active", "closed"
# Closing has its own action (risk_close); "contingency active" follows from the trigger log.
WORKFLOW_STATUSES = frozenset({CLOSED, CONTINGENCY_ACTIVE})
WORKFLOW_STATUS_MESSAGE = (
    "Closing a risk, invoking and standing down its contingency each have their own action; "
    "the status follows from them."
)


def status_edit_allowed(old: str, new: str) -> bool:
    """May an ordinary edit move a risk from `old` to `new`? Only between non-workflow ones."""
    return old == new or (old not in WORKFLOW_STATUSES and new not in WORKFLOW_STATUSES)


# --- Reviews --------------------------------------------------------------------------------


def next_review_due(
    *, reviewed_on: datetime.date | None, frequency_days: int | None
) -> datetime.date | None:
    """The next review falls `frequency_days` after the last one. Never typed by hand."""
    if reviewed_on is None or not frequency_days:
        return None
    return reviewed_on + datetime.timedelta(days=frequency_days)


def is_overdue(*, next_review_due: datetime.date | None, status: str, on: datetime.date) -> bool:
    """A review is overdue when its date has passed on `on`; a closed risk is never overdue."""
    return status != CLOSED and next_review_due is not None and next_review_due < on


def overdue_q(on: datetime.date, prefix: str = "") -> Q:
    """`is_overdue` as a filter."""
    return Q(**{f"{prefix}next_review_due__lt": on}) & ~Q(**{f"{prefix}status": CLOSED})


# --- Which risks the heatmap counts --------------------------------------------------------


def heatmap_includes_closed(*, status: str | None) -> bool:
    """The grid shows the risks open at the time it shows (today, or the end of an `as_of`
    day, whose rows carry the status of that day). A status filter decides for itself
    (status=closed shows the closed ones). An empty `status=` is no filter."""
    return bool(status)


# --- The risk code --------------------------------------------------------------------------

CODE_PATTERN = r"[A-Za-z0-9_-]{1,20}"
# The code is a risk's address (/risks/<code>/, /api/v1/risks/<code>/): letters, digits, - and _.
code_validator = RegexValidator(
    rf"^{CODE_PATTERN}\Z",
    "A risk code is 1-20 letters, digits, - or _ (it is the risk's address), e.g. R6.",
    code="invalid_code",
)


# --- Mitigation actions -------------------------------------------------------------------

FINISHED_MITIGATION = frozenset({"done", "cancelled"})


def mitigation_past_due_q(on: datetime.date, prefix: str = "") -> Q:
    """A mitigation action is past due when its due date has passed on `on` and it is neither
    done nor cancelled (and its risk is not closed)."""
    return (
        Q(**{f"{prefix}due_date__lt": on})
        & ~Q(**{f"{prefix}status__in": FINISHED_MITIGATION})
        & ~Q(**{f"{prefix}risk__status": CLOSED})
    )
