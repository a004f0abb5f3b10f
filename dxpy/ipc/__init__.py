"""Binary IPC between dxpy processes: HBTP frames, channels, shared memory (docs/parallel.md).

    a, b = dxpy.ipc.Channel.pair()              # two connected ends (fork / pass_fds)
    a.send(array); view = b.recv()              # large arrays: read-only shared-memory views
    await a.asend(obj); obj = await b.arecv()   # the same on the running loop
    server = await dxpy.ipc.serve(path, handler); ch = dxpy.ipc.Channel.connect(path)
    counter = dxpy.ipc.Entangled.create("hits", 0); counter.update(lambda n: n + 1)
"""

from .channel import Channel, ChannelClosed
from .codec import RemoteError
from .entangled import ConcurrencyError, Entangled, Snapshot
from .frames import Flags, MessageType, ProtocolError
from .server import ChannelServer, serve

__all__ = ["Channel", "ChannelClosed", "ChannelServer", "ConcurrencyError", "Entangled", "Flags",
           "MessageType", "ProtocolError", "RemoteError", "Snapshot", "serve"]
