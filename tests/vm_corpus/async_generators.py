"""Async generators: async for over them, awaits inside, asend/athrow/aclose, asynccontextmanager."""
import asyncio
import contextlib

log = []


async def ticker(n, delay=0):
    try:
        for i in range(n):
            await asyncio.sleep(delay)
            yield i
    finally:
        log.append(f"ticker({n}) closed")


async def echo():
    received = None
    while True:
        try:
            received = yield f"echo {received}"
        except ValueError as e:
            received = f"handled {e}"


@contextlib.asynccontextmanager
async def session(name):
    log.append(f"open {name}")
    try:
        yield name.upper()
    finally:
        await asyncio.sleep(0)
        log.append(f"close {name}")


async def main():
    values = []
    async for i in ticker(4):
        values.append(i)
    print(values)
    async for i in ticker(10):
        if i == 2:
            break
    gen = ticker(5)
    print(await gen.__anext__(), await gen.__anext__())
    await gen.aclose()
    e = echo()
    print(await e.asend(None), await e.asend("x"), await e.athrow(ValueError("bad")))
    await e.aclose()
    async with session("db") as s:
        log.append(f"using {s}")
    try:
        async with session("tx"):
            raise KeyError("rollback")
    except KeyError:
        log.append("rolled back")
    print(type(ticker(1)).__name__, log)


asyncio.run(main())
