"""Async generators: async comprehension pipelines, asend/athrow/aclose, aiter/anext, async context managers."""

import asyncio
import contextlib


async def ticker(limit):
    for i in range(limit):
        await asyncio.sleep(0)
        yield i


async def squares(source):
    async for value in source:
        yield value * value


async def take(source, n):
    async for value in source:
        if n <= 0:
            return
        n -= 1
        yield value


async def echo(log):
    received = None
    try:
        while True:
            try:
                received = yield received
            except KeyError as error:
                log.append(f"echo handled {error}")
                received = "recovered"
    finally:
        log.append("echo finalised")


@contextlib.asynccontextmanager
async def connection(name, log):
    log.append(f"open {name}")
    try:
        yield name.upper()
    finally:
        await asyncio.sleep(0)
        log.append(f"close {name}")


class Resource:
    def __init__(self, log):
        self.log = log

    async def __aenter__(self):
        self.log.append("resource enter")
        return self

    async def __aexit__(self, kind, value, tb):
        self.log.append(f"resource exit {kind.__name__ if kind else None}")
        return kind is LookupError


class AsyncRange:
    def __init__(self, stop):
        self.current, self.stop = 0, stop

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.current >= self.stop:
            raise StopAsyncIteration
        self.current += 1
        return self.current


async def main():
    log = []
    print([v async for v in squares(ticker(6)) if v % 2 == 0])
    print([v async for v in take(squares(ticker(100)), 4)])
    print({k: v async for k, v in ((await asyncio.sleep(0, result=i), i * 3) for i in range(3))} if False else "skip")
    gen = echo(log)
    print(await gen.asend(None), await gen.asend("hello"), await gen.athrow(KeyError("k")))
    await gen.aclose()
    print(log)
    async with connection("db", log) as conn, Resource(log) as res:
        log.append(f"using {conn} {type(res).__name__}")
        raise LookupError("swallowed by resource")
    print(log[-5:])
    iterator = aiter(AsyncRange(3))
    print(await anext(iterator), await anext(iterator), await anext(iterator), await anext(iterator, "done"))
    print(sum([x async for x in AsyncRange(10)]), [x async for x in AsyncRange(0)])
    total = 0
    async for value in ticker(4):
        if value == 3:
            break
        total += value
    else:
        total = -1
    print("total", total)
    async with Resource(log):
        raise RuntimeError("not swallowed")


asyncio.run(main())
