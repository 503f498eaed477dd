"""common/cache.py: an answer is not kept while a write of its state waits to commit, and a
write that rolled back stops that wait. Before, the name stayed blocked on the connection
after a rollback, so a worker whose write failed computed the rating scale (and every answer
of that state) again on every later request."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from common import cache as state_cache
from risks.selectors import rating_scale
from risks.signals import SCALE

pytestmark = pytest.mark.django_db


class Refused(Exception):
    pass


def test_a_pending_write_blocks_until_it_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        state_cache.bump(SCALE)
        assert not state_cache.storable(SCALE)
    assert state_cache.storable(SCALE)


def test_a_write_rolled_back_with_its_savepoint_blocks_nothing():
    with pytest.raises(Refused), transaction.atomic():
        state_cache.bump(SCALE)
        assert not state_cache.storable(SCALE)
        raise Refused
    assert state_cache.storable(SCALE)


def test_a_write_kept_in_the_outer_transaction_still_blocks():
    with transaction.atomic():
        state_cache.bump(SCALE)
    assert not state_cache.storable(SCALE)  # the outer transaction has not committed


def test_the_scale_is_memoised_again_after_a_failed_write():
    with pytest.raises(Refused), transaction.atomic():
        state_cache.bump(SCALE)
        raise Refused
    rating_scale()
    with CaptureQueriesContext(connection) as queries:
        rating_scale()
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]
