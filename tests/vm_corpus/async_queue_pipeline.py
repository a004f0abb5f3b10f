"""asyncio: producer/consumer pipeline over bounded queues with sentinels, join and task_done."""

import asyncio


async def producer(queue, items, log):
    for item in items:
        await queue.put(item)
        log.append(f"put {item}")
    await queue.put(None)


async def transformer(inbox, outbox, log):
    while True:
        item = await inbox.get()
        inbox.task_done()
        if item is None:
            await outbox.put(None)
            return "transformer done"
        log.append(f"transform {item}")
        await outbox.put(item * item)


async def consumer(queue, log):
    total = 0
    while (item := await queue.get()) is not None:
        total += item
        log.append(f"consume {item}")
        queue.task_done()
    queue.task_done()
    return total


async def worker_pool(jobs, workers):
    queue = asyncio.Queue()
    results = {}
    for job in jobs:
        queue.put_nowait(job)

    async def work(name):
        while True:
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                return name
            await asyncio.sleep(0)
            results[job] = f"{name}:{job * 10}"
            queue.task_done()

    names = await asyncio.gather(*(work(f"w{i}") for i in range(workers)))
    await queue.join()
    return names, dict(sorted(results.items()))


async def main():
    log = []
    first, second = asyncio.Queue(maxsize=2), asyncio.Queue(maxsize=1)
    results = await asyncio.gather(producer(first, range(1, 6), log), transformer(first, second, log),
                                   consumer(second, log))
    print(results)
    print(len(log), sorted(log)[:4])
    print(await worker_pool(range(7), 3))
    lifo = asyncio.LifoQueue()
    priority = asyncio.PriorityQueue()
    for value in (3, 1, 2):
        lifo.put_nowait(value)
        priority.put_nowait((value, f"p{value}"))
    print([lifo.get_nowait() for _ in range(3)], [priority.get_nowait()[1] for _ in range(3)])
    full = asyncio.Queue(maxsize=1)
    full.put_nowait("x")
    try:
        full.put_nowait("y")
    except asyncio.QueueFull:
        print("queue full, size", full.qsize(), full.full())
    empty = asyncio.Queue()
    try:
        await asyncio.wait_for(empty.get(), timeout=0.01)
    except asyncio.TimeoutError:
        print("get timed out")
    return "main done"


print(asyncio.run(main()))
