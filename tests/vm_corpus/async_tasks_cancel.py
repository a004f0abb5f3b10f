"""asyncio tasks: create_task, cancellation with cleanup, shielding, wait_for timeouts, TaskGroup errors."""

import asyncio


async def sleeper(name, event, log):
    try:
        log.append(f"{name} waiting")
        await event.wait()
        log.append(f"{name} woke")
        return name
    except asyncio.CancelledError:
        log.append(f"{name} cancelled")
        raise
    finally:
        log.append(f"{name} cleanup")


async def never(event):
    await event.wait()


async def failing(message):
    await asyncio.sleep(0)
    raise ValueError(message)


async def main():
    log = []
    event = asyncio.Event()
    tasks = [asyncio.create_task(sleeper(f"t{i}", event, log), name=f"task-{i}") for i in range(3)]
    await asyncio.sleep(0)
    tasks[1].cancel("stop t1")
    await asyncio.sleep(0)
    event.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print([r if isinstance(r, str) else type(r).__name__ for r in results])
    print(log)
    print([t.get_name() for t in tasks], tasks[1].cancelled(), tasks[0].done(), tasks[0].result())

    blocker = asyncio.Event()
    try:
        await asyncio.wait_for(never(blocker), timeout=0.01)
    except asyncio.TimeoutError:
        print("wait_for timed out")

    inner = asyncio.create_task(sleeper("shielded", blocker, log))
    outer = asyncio.ensure_future(asyncio.shield(inner))
    await asyncio.sleep(0)
    outer.cancel()
    await asyncio.sleep(0)
    print("outer cancelled", outer.cancelled(), "inner still running", not inner.done())
    blocker.set()
    print("inner result", await inner)

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(failing("first failure"))
            group.create_task(failing("second failure"))
            group.create_task(never(asyncio.Event()))
    except* ValueError as group_error:
        print("TaskGroup:", type(group_error).__name__, sorted(str(e) for e in group_error.exceptions))

    done, pending = await asyncio.wait([asyncio.create_task(asyncio.sleep(0, result=n)) for n in range(3)])
    print(sorted(t.result() for t in done), len(pending))
    task = asyncio.create_task(never(asyncio.Event()))
    await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print("awaiting a cancelled task raises CancelledError")
    current = asyncio.current_task()
    print(current.get_name() is not None, len(asyncio.all_tasks()) >= 1)
    await failing("uncaught in main")


asyncio.run(main())
