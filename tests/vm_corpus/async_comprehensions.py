"""Async comprehensions and async generator expressions, with awaits in elements and conditions."""
import asyncio


async def numbers(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def double(x):
    await asyncio.sleep(0)
    return x * 2


async def main():
    print([i async for i in numbers(5)])
    print({i: await double(i) async for i in numbers(3)})
    print({i % 2 async for i in numbers(6) if i > 1})
    print([await double(x) for x in range(3)])
    print([(i, j) async for i in numbers(2) for j in "ab"])
    print([j for i in range(2) async for j in numbers(i + 1)])
    lazy = (await double(i) async for i in numbers(4) if await double(i) > 2)
    print(type(lazy).__name__, [v async for v in lazy])
    try:
        print([i async for i in range(3)])
    except TypeError as e:
        print(e)


asyncio.run(main())
