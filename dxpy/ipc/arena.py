"""The shared-memory arena a channel end sends large buffers through.

Why an arena and not a segment per message: a fresh shared-memory segment
costs system calls and, above all, a page fault per 4 KiB page on both sides
the first time it is touched (measured: 59 ms for 64 MiB cold vs 7 ms warm).
An arena's segments stay mapped in both processes, so a reused block costs
one ``memcpy`` on the sending side and nothing on the receiving side.

* ``Allocator``: first-fit over a sorted free list with coalescing, for one
  segment; pure bookkeeping (stateful property tests drive it directly).
* ``Arena``: the sender's segments, each an anonymous ``memfd`` (no name in
  ``/dev/shm``, so nothing can leak even if the process is SIGKILLed); a new
  segment's fd is handed to the peer over the Unix socket (``SCM_RIGHTS``).
* ``PeerSegments``: the receiver's mappings of the peer's segments and the
  read-only views it hands out; when the last view of a block dies, a
  finalizer queues the block for a ``RELEASE`` frame back to the sender.
"""

from __future__ import annotations

import bisect
import mmap
import os
import weakref
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .frames import BufferRef, ProtocolError

ALIGN = 64  # cache-line alignment: every dtype's alignment divides it
DEFAULT_SEGMENT_SIZE = 64 << 20
DEFAULT_ARENA_LIMIT = 2 << 30


def _round_up(n: int, to: int) -> int:
    return (n + to - 1) // to * to


class Allocator:
    """First-fit allocation of ``ALIGN``-aligned blocks in ``[0, capacity)``."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0 or capacity % ALIGN:
            raise ValueError(f"capacity must be a positive multiple of {ALIGN}, not {capacity}")
        self.capacity = capacity
        self._free_offsets: list[int] = [0]
        self._free_sizes: dict[int, int] = {0: capacity}
        self._used: dict[int, int] = {}

    def alloc(self, size: int) -> int | None:
        """Offset of a new block of at least ``size`` bytes, or None when none fits."""
        if size < 0:
            raise ValueError(f"cannot allocate {size} bytes")
        need = max(ALIGN, _round_up(size, ALIGN))
        for index, offset in enumerate(self._free_offsets):
            free = self._free_sizes[offset]
            if free >= need:
                del self._free_sizes[offset]
                if free == need:
                    del self._free_offsets[index]
                else:
                    self._free_offsets[index] = offset + need
                    self._free_sizes[offset + need] = free - need
                self._used[offset] = need
                return offset
        return None

    def free(self, offset: int) -> None:
        """Return the block at ``offset``; ``KeyError`` if none was allocated there."""
        size = self._used.pop(offset)
        index = bisect.bisect_left(self._free_offsets, offset)
        if index < len(self._free_offsets) and self._free_offsets[index] == offset + size:
            size += self._free_sizes.pop(offset + size)  # merge with the next free block
            del self._free_offsets[index]
        if index > 0:
            before = self._free_offsets[index - 1]
            if before + self._free_sizes[before] == offset:  # merge with the previous one
                self._free_sizes[before] += size
                return
        self._free_offsets.insert(index, offset)
        self._free_sizes[offset] = size

    @property
    def used(self) -> dict[int, int]:
        """Allocated blocks: offset -> size (a copy)."""
        return dict(self._used)

    @property
    def free_blocks(self) -> list[tuple[int, int]]:
        """Free blocks in address order: (offset, size)."""
        return [(offset, self._free_sizes[offset]) for offset in self._free_offsets]


@dataclass
class Segment:
    """One memfd segment of an arena, mapped in this process."""

    id: int
    size: int
    fd: int  # kept open until the peer has it, then closed (-1)
    map: mmap.mmap
    allocator: Allocator


class Arena:
    """The sending side's segments; blocks are handed out and released by the peer."""

    def __init__(self, segment_size: int = DEFAULT_SEGMENT_SIZE,
                 limit: int = DEFAULT_ARENA_LIMIT) -> None:
        self.segment_size = _round_up(segment_size, mmap.PAGESIZE)
        self.limit = limit
        self.segments: dict[int, Segment] = {}
        self._next_id = 1
        self.mapped = 0

    def alloc(self, size: int) -> tuple[BufferRef, memoryview] | None:
        """A block of ``size`` bytes and a writable view of it, or None when the
        arena is full and may not grow (the caller then waits or sends inline)."""
        for segment in self.segments.values():
            offset = segment.allocator.alloc(size)
            if offset is not None:
                return self._block(segment, offset, size)
        segment = self._grow(size)
        if segment is None:
            return None
        offset = segment.allocator.alloc(size)
        assert offset is not None
        return self._block(segment, offset, size)

    def _block(self, segment: Segment, offset: int, size: int) -> tuple[BufferRef, memoryview]:
        return (BufferRef(segment.id, offset, size),
                memoryview(segment.map)[offset:offset + size])

    def _grow(self, size: int) -> Segment | None:
        seg_size = max(self.segment_size, _round_up(max(size, 1), mmap.PAGESIZE))
        if self.mapped + seg_size > self.limit:
            return None
        fd = os.memfd_create(f"dxpy-arena-{os.getpid()}-{self._next_id}", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, seg_size)
            mapping = mmap.mmap(fd, seg_size)
        except OSError:
            os.close(fd)
            raise
        segment = Segment(self._next_id, seg_size, fd, mapping, Allocator(seg_size))
        self.segments[segment.id] = segment
        self._next_id += 1
        self.mapped += seg_size
        return segment

    def unannounced(self) -> list[Segment]:
        """Segments whose fd the peer has not received yet."""
        return [s for s in self.segments.values() if s.fd >= 0]

    def announced(self, segment: Segment) -> None:
        """The peer holds ``segment``'s fd now: this side no longer needs its own."""
        os.close(segment.fd)
        segment.fd = -1

    def release(self, segment_id: int, offset: int) -> None:
        """The peer is done with a block (a ``RELEASE`` frame)."""
        segment = self.segments.get(segment_id)
        try:
            if segment is None:
                raise KeyError(segment_id)
            segment.allocator.free(offset)
        except KeyError:
            raise ProtocolError(f"peer released block {segment_id}:{offset}, which this "
                                f"arena never handed out") from None

    def in_use(self) -> int:
        """Bytes in blocks the peer has not released."""
        return sum(sum(s.allocator.used.values()) for s in self.segments.values())

    def close(self) -> None:
        """Unmap every segment (views the caller still holds keep theirs mapped)."""
        for segment in self.segments.values():
            if segment.fd >= 0:
                os.close(segment.fd)
                segment.fd = -1
            _close_map(segment.map)
        self.segments.clear()
        self.mapped = 0


class PeerSegments:
    """The peer's arena segments as mapped on the receiving side."""

    def __init__(self, on_release: Callable[[int, int], None]) -> None:
        self._maps: dict[int, mmap.mmap] = {}
        self._on_release = on_release

    def add(self, segment_id: int, fd: int, size: int) -> None:
        """Map a segment announced by a ``SEGMENT`` frame (the fd is consumed)."""
        try:
            if segment_id in self._maps:
                raise ProtocolError(f"peer announced arena segment {segment_id} twice")
            actual = os.fstat(fd).st_size
            if size <= 0 or actual < size:
                raise ProtocolError(f"peer announced a {size}-byte segment whose memfd "
                                    f"holds {actual} bytes")
            self._maps[segment_id] = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        finally:
            os.close(fd)

    def view(self, ref: BufferRef, ack: bool) -> memoryview:
        """A read-only view of a block; with ``ack`` its release is reported
        (``on_release``) once the view and everything made from it are gone."""
        mapping = self._maps.get(ref.segment)
        if mapping is None:
            raise ProtocolError(f"frame names arena segment {ref.segment}, never announced")
        if ref.offset + ref.length > len(mapping):
            raise ProtocolError(f"frame names bytes {ref.offset}..{ref.offset + ref.length} "
                                f"of a {len(mapping)}-byte segment")
        # The ndarray is the buffer's exporter: every memoryview or array made
        # from the returned view keeps it alive, so its finalizer fires exactly
        # when the last of them is gone.
        base = np.frombuffer(mapping, np.uint8, count=ref.length, offset=ref.offset)
        if ack:
            weakref.finalize(base, self._on_release, ref.segment, ref.offset)
        return memoryview(base)

    def close(self) -> None:
        """Drop the mappings (views still alive keep their segment mapped)."""
        for mapping in self._maps.values():
            _close_map(mapping)
        self._maps.clear()


def _close_map(mapping: mmap.mmap) -> None:
    try:
        mapping.close()
    except BufferError:  # views are still exported: unmapped when the last one dies
        pass


__all__ = ["ALIGN", "Allocator", "Arena", "DEFAULT_ARENA_LIMIT", "DEFAULT_SEGMENT_SIZE",
           "PeerSegments", "Segment"]
