"""asyncio retry with exponential backoff (zero real delay), circuit breaker and a simulated flaky service."""

import asyncio


class Flaky:
    def __init__(self, failures):
        self.failures = list(failures)
        self.calls = 0

    async def fetch(self, key):
        self.calls += 1
        await asyncio.sleep(0)
        if self.failures and self.failures.pop(0):
            raise ConnectionError(f"attempt {self.calls} for {key} failed")
        return f"value of {key}"


class CircuitOpen(Exception):
    pass


class Breaker:
    def __init__(self, threshold):
        self.threshold, self.failures, self.log = threshold, 0, []

    async def call(self, fn, *args):
        if self.failures >= self.threshold:
            raise CircuitOpen(f"open after {self.failures} failures")
        try:
            result = await fn(*args)
        except ConnectionError:
            self.failures += 1
            raise
        self.failures = 0
        return result


async def retry(fn, *args, attempts=4, base=0.5, log=None):
    delay = base
    for attempt in range(1, attempts + 1):
        try:
            return await fn(*args)
        except ConnectionError as error:
            log.append(f"try {attempt}: {error}; backoff {delay}")
            if attempt == attempts:
                raise
            await asyncio.sleep(0)
            delay *= 2


async def main():
    log = []
    service = Flaky([True, True, False])
    print(await retry(service.fetch, "a", log=log), service.calls)
    print("\n".join(log))
    breaker = Breaker(2)
    service = Flaky([True, True, True, False])
    for key in "wxyz":
        try:
            print(await breaker.call(service.fetch, key))
        except (ConnectionError, CircuitOpen) as error:
            print(type(error).__name__, error)
    results = await asyncio.gather(*(retry(Flaky([i % 2 == 0]).fetch, f"k{i}", log=log) for i in range(4)))
    print(results)
    await retry(Flaky([True] * 5).fetch, "doomed", attempts=3, log=log)


asyncio.run(main())
