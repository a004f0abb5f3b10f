"""async def / await on asyncio: tasks, gather, sleep, exceptions, timeouts, cancellation."""
import asyncio


async def square(x, delay):
    await asyncio.sleep(delay)
    return x * x


async def failing():
    await asyncio.sleep(0)
    raise ValueError("task failed")


class Ticket:
    def __await__(self):
        value = yield from asyncio.sleep(0, result="awaited custom").__await__()
        return value


async def main():
    print(await square(3, 0))
    results = await asyncio.gather(square(1, 0.002), square(2, 0.001), square(3, 0))
    print(results)
    task = asyncio.create_task(square(4, 0))
    print(await task, task.done())
    try:
        await failing()
    except ValueError as e:
        print("caught", e)
    print(await asyncio.gather(failing(), square(5, 0), return_exceptions=True))
    print(await Ticket())
    try:
        await asyncio.wait_for(asyncio.sleep(1), timeout=0.01)
    except asyncio.TimeoutError:
        print("timed out")
    sleeper = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
    sleeper.cancel()
    try:
        await sleeper
    except asyncio.CancelledError:
        print("cancelled")
    queue = asyncio.Queue()

    async def producer():
        for i in range(3):
            await queue.put(i)
        await queue.put(None)

    async def consumer():
        seen = []
        while True:
            item = await queue.get()
            if item is None:
                return seen
            seen.append(item)

    print(await asyncio.gather(producer(), consumer()))
    pending = square(0, 0)
    print(asyncio.iscoroutinefunction(main), asyncio.iscoroutine(pending), await pending)
    try:
        await 3
    except TypeError as e:
        print(e)
    return "main done"


print(asyncio.run(main()))
