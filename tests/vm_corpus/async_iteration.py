"""async for and async with: custom protocols, break/return/exceptions through them, contextlib helpers."""
import asyncio
import contextlib

log = []


class Resource:
    def __init__(self, name, suppress=False):
        self.name, self.suppress = name, suppress

    async def __aenter__(self):
        await asyncio.sleep(0)
        log.append(f"enter {self.name}")
        return self.name

    async def __aexit__(self, kind, value, tb):
        await asyncio.sleep(0)
        log.append(f"exit {self.name} {kind.__name__ if kind else None}")
        return self.suppress


class Ticker:
    def __init__(self, n):
        self.n = n

    def __aiter__(self):
        return self

    async def __anext__(self):
        await asyncio.sleep(0)
        if self.n <= 0:
            raise StopAsyncIteration
        self.n -= 1
        return self.n


class BadNext:
    def __aiter__(self):
        return self

    async def __anext__(self):
        raise ValueError("anext failed")


class session(contextlib.AbstractAsyncContextManager):
    def __init__(self, name):
        self.name = name

    async def __aenter__(self):
        log.append(f"open {self.name}")
        return self.name.upper()

    async def __aexit__(self, *exc):
        log.append(f"close {self.name}")


async def first_even():
    async for value in Ticker(10):
        if value % 2 == 0 and value < 7:
            return value


async def main():
    async with Resource("a") as a, Resource("b") as b:
        log.append(f"body {a}{b}")
    async with Resource("quiet", suppress=True):
        raise KeyError("hidden")
    try:
        async with Resource("loud"):
            raise KeyError("shown")
    except KeyError as e:
        log.append(f"caught {e}")
    values = []
    async for v in Ticker(4):
        if v == 1:
            continue
        values.append(v)
    else:
        values.append("else")
    async for v in Ticker(5):
        if v == 2:
            break
    print(values, v, await first_even())
    try:
        async for _ in BadNext():
            pass
    except ValueError as e:
        print("error from __anext__:", e, e.__context__)
    async with session("db") as s:
        log.append(s)
    try:
        async with 5:
            pass
    except TypeError as e:
        print(e)
    try:
        async for _ in 5:
            pass
    except TypeError as e:
        print(e)
    print(log)


asyncio.run(main())
