"""The arena allocator under random alloc/free sequences (stateful), and arena growth."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from dxpy.ipc.arena import ALIGN, Allocator, Arena
from dxpy.ipc.frames import ProtocolError

CAPACITY = 64 * ALIGN


class AllocatorMachine(RuleBasedStateMachine):
    """Blocks never overlap, stay in bounds and aligned; free space coalesces."""

    blocks = Bundle("blocks")

    def __init__(self) -> None:
        super().__init__()
        self.allocator = Allocator(CAPACITY)
        self.live: dict[int, int] = {}  # offset -> requested size

    @rule(target=blocks, size=st.integers(0, CAPACITY // 3))
    def alloc(self, size: int) -> int:
        offset = self.allocator.alloc(size)
        if offset is None:
            # first fit refuses only when no free block is large enough
            need = max(ALIGN, -(-size // ALIGN) * ALIGN)
            assert all(free < need for _, free in self.allocator.free_blocks)
            return -1
        assert offset % ALIGN == 0 and offset + size <= CAPACITY
        self.live[offset] = size
        return offset

    @rule(offset=consumes(blocks))
    def free(self, offset: int) -> None:
        if offset == -1:
            return
        self.allocator.free(offset)
        del self.live[offset]

    @rule(offset=st.integers(0, CAPACITY))
    def free_unknown(self, offset: int) -> None:
        if offset not in self.live:
            with pytest.raises(KeyError):
                self.allocator.free(offset)

    @invariant()
    def blocks_partition_the_capacity(self) -> None:
        used = sorted(self.allocator.used.items())
        assert sorted(self.live) == [offset for offset, _ in used]
        spans = sorted(used + self.allocator.free_blocks)
        position = 0
        for offset, size in spans:
            assert offset == position and size > 0
            position += size
        assert position == CAPACITY

    @invariant()
    def free_blocks_are_coalesced(self) -> None:
        free = self.allocator.free_blocks
        for (a, size), (b, _) in zip(free, free[1:]):
            assert a + size < b

    @invariant()
    def requested_sizes_fit(self) -> None:
        used = self.allocator.used
        for offset, size in self.live.items():
            assert used[offset] >= size


TestAllocatorMachine = AllocatorMachine.TestCase
TestAllocatorMachine.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)


def test_freeing_everything_leaves_one_free_block() -> None:
    allocator = Allocator(CAPACITY)
    offsets = [allocator.alloc(100) for _ in range(10)]
    for offset in offsets[::2] + offsets[1::2]:
        allocator.free(offset)  # type: ignore[arg-type]
    assert allocator.free_blocks == [(0, CAPACITY)]


def test_bad_capacities_and_sizes_are_value_errors() -> None:
    with pytest.raises(ValueError, match="multiple of 64"):
        Allocator(100)
    with pytest.raises(ValueError, match="cannot allocate -1"):
        Allocator(CAPACITY).alloc(-1)


def test_arena_grows_segments_up_to_its_limit_and_rejects_unknown_releases() -> None:
    arena = Arena(segment_size=1 << 16, limit=1 << 18)
    try:
        first = arena.alloc(40_000)
        assert first is not None and first[0].segment == 1
        first[1].release()
        big = arena.alloc(150_000)  # larger than a segment: a segment of its own
        assert big is not None and big[0].segment == 2 and arena.mapped == (1 << 16) + 151_552
        big[1].release()
        assert arena.alloc(1 << 18) is None  # over the limit: the caller sends in band
        assert arena.in_use() == 40_000 + 150_016  # both rounded up to 64 bytes
        arena.release(2, big[0].offset)
        with pytest.raises(ProtocolError, match="never handed out"):
            arena.release(2, big[0].offset)
        with pytest.raises(ProtocolError, match="never handed out"):
            arena.release(9, 0)
        assert len(arena.unannounced()) == 2
    finally:
        arena.close()
