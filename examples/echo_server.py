"""A TCP echo server on asyncio's API; run it with ``dxpy run examples/echo_server.py``.

Nothing here names dxpy: ``dxpy run`` installs the dxpy loop policy, so the
plain ``asyncio.run`` below runs on io_uring (or epoll).  Options:
``--host``, ``--port`` (default 8888), ``--serve-for SECONDS`` (default: forever).
"""

import argparse
import asyncio


class Echo(asyncio.Protocol):
    """Write every received chunk straight back."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def main(host: str, port: int, serve_for: float | None) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, host, port)
    bound = server.sockets[0].getsockname()
    print(f"echo server on {bound[0]}:{bound[1]} ({type(loop).__module__}.{type(loop).__name__})",
          flush=True)
    async with server:
        if serve_for is None:
            await server.serve_forever()
        else:
            await asyncio.sleep(serve_for)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--serve-for", type=float, default=None)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port, args.serve_for))
