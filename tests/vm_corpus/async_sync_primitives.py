"""asyncio synchronisation: Lock, Semaphore, Condition, Event, Barrier-like rendezvous, ordered by sleep(0)."""

import asyncio


class Account:
    def __init__(self):
        self.balance = 0
        self.lock = asyncio.Lock()

    async def deposit(self, amount, log):
        async with self.lock:
            current = self.balance
            await asyncio.sleep(0)
            self.balance = current + amount
            log.append(amount)


async def limited(semaphore, name, active, peak):
    async with semaphore:
        active.append(name)
        peak.append(len(active))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        active.remove(name)
    return name


async def consumer(condition, items, name, got):
    async with condition:
        await condition.wait_for(lambda: items)
        got.append((name, items.pop(0)))


async def producer(condition, items, count):
    for i in range(count):
        await asyncio.sleep(0)
        async with condition:
            items.append(i)
            condition.notify(1)


async def main():
    account, log = Account(), []
    await asyncio.gather(*(account.deposit(n, log) for n in range(1, 11)))
    print("balance", account.balance, "deposits", log)

    semaphore, active, peak = asyncio.Semaphore(2), [], []
    names = await asyncio.gather(*(limited(semaphore, f"job{i}", active, peak) for i in range(5)))
    print(names, "max concurrent", max(peak))

    condition, items, got = asyncio.Condition(), [], []
    await asyncio.gather(*(consumer(condition, items, f"c{i}", got) for i in range(3)), producer(condition, items, 3))
    print(sorted(got, key=lambda pair: pair[1]), items)

    ready = asyncio.Event()
    order = []

    async def waiter(i):
        await ready.wait()
        order.append(i)

    tasks = [asyncio.create_task(waiter(i)) for i in range(4)]
    await asyncio.sleep(0)
    print("set?", ready.is_set(), order)
    ready.set()
    await asyncio.gather(*tasks)
    print("woken", sorted(order))

    lock = asyncio.Lock()
    print(lock.locked())
    await lock.acquire()
    print(lock.locked())
    lock.release()
    try:
        lock.release()
    except RuntimeError as error:
        print("RuntimeError:", error)
    bounded = asyncio.BoundedSemaphore(1)
    async with bounded:
        pass
    bounded.release()


asyncio.run(main())
