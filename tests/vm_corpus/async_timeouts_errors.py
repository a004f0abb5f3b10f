"""asyncio errors: exceptions from gather, asyncio.timeout blocks, cancellation propagation and cleanup order."""

import asyncio


async def fail_after(steps, message):
    for _ in range(steps):
        await asyncio.sleep(0)
    raise RuntimeError(message)


async def slow(log, name, event):
    try:
        await event.wait()
    except asyncio.CancelledError:
        log.append(f"{name} cancelled")
        raise
    return name


async def main():
    log = []
    try:
        await asyncio.gather(fail_after(1, "first"), fail_after(3, "second"))
    except RuntimeError as error:
        print("gather raised:", error)
    results = await asyncio.gather(fail_after(1, "a"), asyncio.sleep(0, "ok"), return_exceptions=True)
    print([repr(r) for r in results])

    never = asyncio.Event()
    try:
        async with asyncio.timeout(0.01):
            await slow(log, "in-timeout", never)
    except TimeoutError:
        print("timeout block expired;", log)

    async with asyncio.timeout(None) as context:
        await asyncio.sleep(0)
    print("no deadline:", context.when())

    task = asyncio.create_task(slow(log, "victim", never))
    await asyncio.sleep(0)
    task.cancel()
    results = await asyncio.gather(task, return_exceptions=True)
    print(type(results[0]).__name__, log[-1])

    async def parent():
        child = asyncio.create_task(slow(log, "child", never))
        try:
            await child
        finally:
            log.append(f"parent finally, child cancelled={child.cancelled()}")

    outer = asyncio.create_task(parent())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    outer.cancel()
    try:
        await outer
    except asyncio.CancelledError:
        print("parent cancelled:", log[-2:])

    async def swallow():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return "swallowed"

    swallower = asyncio.create_task(swallow())
    await asyncio.sleep(0)
    swallower.cancel()
    print("swallowing task returned", await swallower)
    await fail_after(2, "uncaught from main")


asyncio.run(main())
