"""async tree: recursive fan-out of coroutines with gather, memoised shared futures and a semaphore-limited variant."""

import asyncio

NUM_RECURSE_LEVELS = 4
NUM_RECURSE_BRANCHES = 3


class Tree:
    def __init__(self, use_cache=False, limit=None):
        self.calls = 0
        self.cache = {} if use_cache else None
        self.semaphore = asyncio.Semaphore(limit) if limit else None
        self.peak = self.active = 0

    async def io_op(self, key):
        if self.cache is not None and key in self.cache:
            return await self.cache[key]
        if self.cache is not None:
            self.cache[key] = asyncio.get_running_loop().create_future()
        if self.semaphore is not None:
            async with self.semaphore:
                result = await self._work(key)
        else:
            result = await self._work(key)
        if self.cache is not None:
            self.cache[key].set_result(result)
        return result

    async def _work(self, key):
        self.calls += 1
        self.active += 1
        self.peak = max(self.peak, self.active)
        await asyncio.sleep(0)
        self.active -= 1
        return sum(key) % 7

    async def recurse(self, level, path=()):
        if level == 0:
            return await self.io_op(path[-2:])
        results = await asyncio.gather(*(self.recurse(level - 1, path + (branch,))
                                         for branch in range(NUM_RECURSE_BRANCHES)))
        return sum(results) + await self.io_op(path[-2:])


async def main():
    for label, tree in (("plain", Tree()), ("memoised", Tree(use_cache=True)), ("limited", Tree(limit=2))):
        total = await tree.recurse(NUM_RECURSE_LEVELS)
        print(f"{label:9} total={total} io_calls={tree.calls} peak_concurrency={tree.peak if label == 'limited' else '-'}")


asyncio.run(main())
