"""asyncio futures and callbacks: call_soon ordering, Future results/exceptions, done callbacks, run_in_executor-free."""

import asyncio


async def main():
    loop = asyncio.get_running_loop()
    order = []
    loop.call_soon(order.append, "soon-1")
    loop.call_soon(order.append, "soon-2")
    handle = loop.call_soon(order.append, "cancelled")
    handle.cancel()
    await asyncio.sleep(0)
    print(order, handle.cancelled())

    future = loop.create_future()
    future.add_done_callback(lambda f: order.append(f"callback saw {f.result()}"))
    loop.call_soon(future.set_result, 42)
    print("awaited", await future, future.done())
    await asyncio.sleep(0)
    print(order[-1])

    failing = loop.create_future()
    failing.set_exception(KeyError("missing"))
    try:
        await failing
    except KeyError as error:
        print("future raised", repr(error), failing.exception() is not None)

    cancelled = loop.create_future()
    cancelled.cancel()
    print("cancelled future", cancelled.cancelled(), cancelled.done())
    try:
        cancelled.result()
    except asyncio.CancelledError:
        print("result() of a cancelled future raises CancelledError")

    try:
        future.set_result(1)
    except asyncio.InvalidStateError as error:
        print("InvalidStateError:", error)

    async def compute(x):
        await asyncio.sleep(0)
        return x * x

    tasks = [asyncio.ensure_future(compute(i)) for i in range(5)]
    for task in asyncio.as_completed(tasks):
        order.append(await task)
    print(sorted(order[-5:]))
    gathered = asyncio.gather(compute(2), compute(3))
    print(await gathered, gathered.done())
    fired = []
    timer = loop.call_later(0.001, fired.append, "later")
    await asyncio.sleep(0.01)
    print(fired, timer.cancelled())
    wrapped = asyncio.wrap_future(loop.create_future()) if False else None
    print("wrapped", wrapped)
    pending = loop.create_future()
    try:
        await asyncio.wait_for(pending, 0.001)
    except asyncio.TimeoutError:
        print("wait_for cancelled the future:", pending.cancelled())
    result = await asyncio.gather(compute(1), asyncio.sleep(0, "slept"), return_exceptions=False)
    print(result)
    loop.call_soon(order.append, "after main")
    raise TypeError("main gives up")


try:
    asyncio.run(main())
except TypeError as error:
    print("TypeError:", error)
asyncio.run(asyncio.sleep(0, result="value"))
print(asyncio.run(asyncio.sleep(0, result="done")))
asyncio.run(42)
