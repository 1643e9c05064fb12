"""Noticing the messages the consumer skipped: the order a restarted worker was seen to get
them in (faust's seek to the committed offsets racing with fetches from further on)."""

from __future__ import annotations

from faust.types import TP

from streams._positions import ReadPositions

KEYED = TP("keyed", 3)
SOURCE = TP("orders", 1)


def test_messages_in_order_from_the_committed_offset_are_taken() -> None:
    positions = ReadPositions({KEYED: 36}.get)
    assert [positions.missing(KEYED, offset) for offset in (36, 37, 38)] == [None, None, None]


def test_a_jump_past_the_expected_offset_asks_to_go_back_until_that_offset_comes() -> None:
    positions = ReadPositions({KEYED: 36}.get)
    assert positions.missing(KEYED, 36) is None
    assert positions.missing(KEYED, 37) is None
    assert positions.missing(KEYED, 43) == 38  # 38 to 42 were skipped
    assert positions.rewind(KEYED, 38)
    assert positions.missing(KEYED, 44) == 38  # fetched before the seek: still not taken
    assert not positions.rewind(KEYED, 38)  # already going back there
    assert [positions.missing(KEYED, offset) for offset in range(38, 45)] == [None] * 7
    assert positions.rewind(KEYED, 45)  # a new gap is news again


def test_the_first_message_must_be_the_committed_one() -> None:
    positions = ReadPositions({SOURCE: 75}.get)
    assert positions.missing(SOURCE, 82) == 75
    assert positions.missing(SOURCE, 75) is None


def test_messages_read_again_are_taken_without_moving_back() -> None:
    positions = ReadPositions({KEYED: 36}.get)
    for offset in (36, 37, 38):
        positions.missing(KEYED, offset)
    assert positions.missing(KEYED, 37) is None  # delivered again after a seek
    assert positions.missing(KEYED, 39) is None
    assert positions.missing(KEYED, 41) == 40


def test_without_a_committed_offset_the_first_message_sets_the_position() -> None:
    positions = ReadPositions({}.get)
    assert positions.missing(KEYED, 12) is None
    assert positions.missing(KEYED, 14) == 13


def test_forgotten_partitions_start_again_from_their_committed_offsets() -> None:
    committed = {KEYED: 36, SOURCE: 75}
    positions = ReadPositions(committed.get)
    positions.missing(KEYED, 36)
    positions.missing(SOURCE, 75)
    committed[KEYED] = 40
    positions.forget([KEYED])
    assert positions.missing(KEYED, 41) == 40
    assert positions.missing(SOURCE, 77) == 76
    positions.forget_all()
    assert positions.missing(SOURCE, 77) == 75
