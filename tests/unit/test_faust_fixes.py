"""Records Faust fetched for a partition it may not read right now are kept for later: the
partition's fetch position goes back to the first of them, so none is skipped."""

from __future__ import annotations

from dataclasses import dataclass

from streams.faust_fixes import keep_for_later


@dataclass(frozen=True)
class Record:
    offset: int


def records(*offsets: int) -> list[Record]:
    return [Record(o) for o in offsets]


async def test_records_of_paused_partitions_are_fetched_again_from_the_first() -> None:
    seeks: list[tuple[str, int]] = []

    async def seek(tp: str, offset: int) -> None:
        seeks.append((tp, offset))

    fetched = {"inbound-0": records(10, 11), "inbound-1": records(861, 862), "actions-2": []}
    await keep_for_later(fetched, {"inbound-0"}, {"inbound-0", "inbound-1"}, seek)
    assert fetched == {"inbound-0": records(10, 11)}
    assert seeks == [("inbound-1", 861)]


async def test_a_partition_no_longer_ours_is_left_to_its_next_owner() -> None:
    seeks: list[tuple[str, int]] = []

    async def seek(tp: str, offset: int) -> None:
        seeks.append((tp, offset))

    fetched = {"inbound-3": records(5)}
    await keep_for_later(fetched, set(), set(), seek)
    assert fetched == {}
    assert seeks == []
