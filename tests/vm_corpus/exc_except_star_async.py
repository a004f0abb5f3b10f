"""except* with asyncio TaskGroup failures, nested groups, notes on parts, and unhandled remainders."""

import asyncio


async def job(name, outcome):
    await asyncio.sleep(0)
    match outcome:
        case "ok":
            return name
        case "value":
            raise ValueError(f"{name} bad value")
        case "key":
            raise KeyError(name)
        case "nested":
            raise ExceptionGroup(f"{name} group", [OSError(f"{name} io"), ValueError(f"{name} inner")])


async def run(outcomes):
    log = []
    try:
        async with asyncio.TaskGroup() as group:
            for i, outcome in enumerate(outcomes):
                group.create_task(job(f"j{i}", outcome))
    except* ValueError as eg:
        log.append(("values", sorted(str(e) for e in _leaves(eg))))
    except* KeyError as eg:
        for e in eg.exceptions:
            e.add_note("seen by the key handler")
        log.append(("keys", [e.__notes__ for e in eg.exceptions]))
    return log


def _leaves(group):
    for e in group.exceptions:
        if isinstance(e, BaseExceptionGroup):
            yield from _leaves(e)
        else:
            yield e


async def main():
    print(await run(["ok", "ok"]))
    print(await run(["value", "ok", "key"]))
    try:
        await run(["nested", "value"])
    except* OSError as eg:
        print("unhandled OSError reached main:", [str(e) for e in _leaves(eg)])
    try:
        try:
            raise ExceptionGroup("outer", [ValueError("a"), TypeError("b")])
        except* ValueError:
            raise KeyError("from handler")
    except ExceptionGroup as eg:
        print(type(eg).__name__, repr(eg.message), sorted(type(e).__name__ for e in eg.exceptions))
    await run(["key", "nested"])


asyncio.run(main())
