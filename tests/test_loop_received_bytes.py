"""The bytes a protocol receives are its own, whatever the loop reuses.

The compiled core copies the next receive into the previous receive's bytes
object when the protocol kept no reference to it (see "Received bytes are
recycled" in dxpy/core/lanes.pxi).  These tests hold the core to what a
protocol can observe: a chunk it keeps never changes, a hash it computed
once is right for the next chunk, and every byte arrives once, in order, on
every loop (asyncio's is the reference)."""

from __future__ import annotations

import asyncio
import os
import socket

from hypothesis import HealthCheck, given, settings, strategies as st

#: One size for every message, so that each receive could reuse the last one's object.
SIZE = 1024

#: Per message: (its fill byte, whether the protocol keeps the chunk, whether it hashes it).
MESSAGES = st.lists(st.tuples(st.integers(0, 255), st.booleans(), st.booleans()),
                    min_size=1, max_size=40)


class Inspector(asyncio.Protocol):
    """Checks each chunk as it arrives, keeps the ones it is told to."""

    def __init__(self, plan: list[tuple[int, bool, bool]]) -> None:
        self.plan = plan
        self.kept: list[tuple[bytes, bytes]] = []
        self.ids: list[int] = []
        self.received = bytearray()
        self.arrived = asyncio.Event()
        self.errors: list[str] = []

    def data_received(self, data: bytes) -> None:
        index = len(self.received) // SIZE
        fill, keep, hashed = self.plan[min(index, len(self.plan) - 1)]
        self.received += data
        self.ids.append(id(data))
        if hashed and hash(data) != hash(bytes(bytearray(data))):
            self.errors.append(f"chunk {index}: stale hash")
        if keep:
            self.kept.append((data, bytes(bytearray(data))))
        if len(self.received) % SIZE == 0:
            self.arrived.set()


async def lockstep(plan: list[tuple[int, bool, bool]]) -> Inspector:
    """Send the plan's messages one at a time, each after the last arrived."""
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False)
    protocol = Inspector(plan)
    transport, _ = await loop.connect_accepted_socket(lambda: protocol, b)
    try:
        for fill, _, _ in plan:
            protocol.arrived.clear()
            await loop.sock_sendall(a, bytes([fill]) * SIZE)
            await asyncio.wait_for(protocol.arrived.wait(), 10)
    finally:
        transport.close()
        a.close()
    return protocol


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # one loop serves every example
@given(plan=MESSAGES)
def test_kept_chunks_never_change_and_hashes_stay_right(any_loop: asyncio.AbstractEventLoop,
                                                        plan: list[tuple[int, bool, bool]]) -> None:
    protocol = any_loop.run_until_complete(lockstep(plan))
    assert protocol.errors == []
    assert bytes(protocol.received) == b"".join(bytes([fill]) * SIZE for fill, _, _ in plan)
    for data, copy in protocol.kept:
        assert data == copy


def test_a_chunk_nobody_kept_is_reused(loop_kind: str,
                                       any_loop: asyncio.AbstractEventLoop) -> None:
    """On the compiled core the recycling above really runs (so the property
    test exercises it): chunks that were dropped come back as the next one."""
    protocol = any_loop.run_until_complete(lockstep([(i, False, True) for i in range(8)]))
    assert protocol.errors == []
    if loop_kind != "asyncio" and os.environ.get("DXPY_CORE") == "compiled":
        assert len(set(protocol.ids)) < len(protocol.ids)
