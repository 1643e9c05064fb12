"""Noticing the messages the consumer skipped: the order a restarted worker was seen to get
them in (faust's seek to the committed offsets racing with fetches from further on)."""

from __future__ import annotations

from faust.types import TP

from streams._positions import ReadPositions

KEYED = TP("keyed", 3)
SOURCE = TP("orders", 1)


def _from(**starts: int) -> ReadPositions:
    positions = ReadPositions()
    positions.restart({KEYED: starts.get("keyed", 36), SOURCE: starts.get("source", 75)})
    return positions


def test_messages_in_order_from_the_start_are_taken() -> None:
    positions = _from(keyed=36)
    assert [positions.missing(KEYED, offset) for offset in (36, 37, 38)] == [None, None, None]


def test_a_jump_past_the_expected_offset_asks_to_go_back_until_that_offset_comes() -> None:
    positions = _from(keyed=36)
    assert positions.missing(KEYED, 36) is None
    assert positions.missing(KEYED, 37) is None
    assert positions.missing(KEYED, 43) == 38  # 38 to 42 were skipped
    assert positions.rewind(KEYED, 38)
    assert positions.missing(KEYED, 44) == 38  # fetched before the seek: still not taken
    assert not positions.rewind(KEYED, 38)  # already going back there
    assert [positions.missing(KEYED, offset) for offset in range(38, 45)] == [None] * 7
    assert positions.rewind(KEYED, 45)  # a new gap is news again


def test_the_first_message_must_be_the_one_reading_starts_at() -> None:
    positions = _from(source=75)
    assert positions.missing(SOURCE, 82) == 75
    assert positions.missing(SOURCE, 75) is None


def test_messages_read_again_are_taken_without_moving_back() -> None:
    positions = _from(keyed=36)
    for offset in (36, 37, 38):
        positions.missing(KEYED, offset)
    assert positions.missing(KEYED, 37) is None  # delivered again after a seek
    assert positions.missing(KEYED, 39) is None
    assert positions.missing(KEYED, 41) == 40


def test_without_a_known_start_the_first_message_sets_the_position() -> None:
    positions = ReadPositions()
    assert positions.missing(KEYED, 12) is None
    assert positions.missing(KEYED, 14) == 13


def test_a_rebalance_sets_new_starts_and_a_partition_given_away_is_forgotten() -> None:
    positions = _from(keyed=36, source=75)
    positions.missing(KEYED, 36)
    positions.missing(SOURCE, 75)
    positions.forget([KEYED])
    assert positions.missing(KEYED, 41) is None  # not ours: nothing expected
    assert positions.missing(SOURCE, 77) == 76
    positions.restart({SOURCE: 75})
    assert positions.missing(SOURCE, 77) == 75
