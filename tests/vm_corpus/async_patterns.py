"""asyncio patterns: try/finally in coroutines, cancellation cleanup, locks, events, as_completed, timeouts."""
import asyncio


async def worker(name, delay, log):
    try:
        log.append(f"{name} start")
        await asyncio.sleep(delay)
        log.append(f"{name} done")
        return name
    except asyncio.CancelledError:
        log.append(f"{name} cancelled")
        raise
    finally:
        log.append(f"{name} cleanup")


async def guarded(lock, box, n):
    await lock.acquire()
    try:
        value = box[0]
        await asyncio.sleep(0)
        box[0] = value + n
    finally:
        lock.release()


async def main():
    log = []
    slow = asyncio.create_task(worker("slow", 10, log))
    fast = asyncio.create_task(worker("fast", 0.001, log))
    print(await fast)
    slow.cancel()
    try:
        await slow
    except asyncio.CancelledError:
        print("slow was cancelled")
    print(log)
    lock, box = asyncio.Lock(), [0]
    await asyncio.gather(*(guarded(lock, box, i) for i in range(1, 6)))
    print("box", box)
    event = asyncio.Event()

    async def waiter():
        await event.wait()
        return "event seen"

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    event.set()
    print(await task)
    finished = []
    for next_done in asyncio.as_completed([worker(f"w{i}", 0.001 * (3 - i), []) for i in range(3)]):
        finished.append(await next_done)
    print(sorted(finished))
    try:
        await asyncio.wait_for(worker("timeout", 1, log), 0.005)
    except asyncio.TimeoutError:
        print("timeout", log[-2:])
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    loop.call_soon(future.set_result, 42)
    print(await future)


asyncio.run(main())
