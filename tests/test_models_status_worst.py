"""`Status.worst` (issue 17: found by `in`, not by rank member by member) is the member of the
highest rank, for every mix of statuses, lists and tuples alike; nothing at all is OK."""

from __future__ import annotations

import itertools

from triage.models import Status


def _by_rank(statuses: list[Status]) -> Status:
    return max(statuses, key=lambda s: s.rank, default=Status.OK)


def test_worst_is_the_highest_rank_of_every_mix() -> None:
    members = list(Status)
    for size in range(4):
        for mix in itertools.product(members, repeat=size):
            assert Status.worst(list(mix)) is _by_rank(list(mix))
            assert Status.worst(tuple(mix)) is _by_rank(list(mix))


def test_worst_of_thousands() -> None:
    many = [Status.OK] * 5000 + [Status.UNKNOWN] + [Status.OK] * 1000
    assert Status.worst(many) is Status.UNKNOWN
    assert Status.worst([]) is Status.OK and Status.worst([Status.OK] * 3) is Status.OK


def test_worst_of_an_iterator() -> None:
    assert Status.worst(iter([Status.OK, Status.WARNING, Status.OK])) is Status.WARNING  # type: ignore[arg-type]
