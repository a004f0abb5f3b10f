"""match inside generators, coroutines and async generators: protocol messages routed by shape."""

import asyncio


def router():
    """A coroutine-style generator: send messages in, get routing decisions out."""
    decision = None
    stats = {"ok": 0, "bad": 0}
    while True:
        message = yield decision
        match message:
            case ("ping", seq):
                decision = f"pong {seq}"
            case ("data", str(channel), bytes() | bytearray() as payload) if payload:
                decision = f"{channel}: {len(payload)} bytes"
            case ("data", channel, _):
                decision = f"{channel}: empty"
            case ("stats",):
                decision = dict(stats)
                continue
            case ("quit", *_):
                return stats
            case _:
                stats["bad"] += 1
                decision = "unknown"
                continue
        stats["ok"] += 1


def replay(messages):
    r = router()
    next(r)
    out = []
    try:
        for m in messages:
            out.append(r.send(m))
    except StopIteration as stop:
        out.append(("final", stop.value))
    return out


print(replay([("ping", 1), ("data", "x", b"abc"), ("data", "y", b""), ("nope",), ("stats",), ("quit",)]))


async def events():
    for event in [{"type": "key", "key": "q"}, {"type": "mouse", "pos": (3, 4)}, {"type": "key", "key": "ctrl-c"},
                  {"type": "resize", "size": [80, 24]}, {"type": "noise"}]:
        await asyncio.sleep(0)
        yield event


async def handle():
    log = []
    async for event in events():
        match event:
            case {"type": "key", "key": "ctrl-c"}:
                log.append("interrupt")
                break
            case {"type": "key", "key": str(k)}:
                log.append(f"key {k}")
            case {"type": "mouse", "pos": (x, y)}:
                log.append(f"mouse {x},{y}")
            case {"type": other}:
                log.append(f"ignored {other}")
    return log


async def classify_all(values):
    async def one(v):
        await asyncio.sleep(0)
        match v:
            case int(n) if n < 0:
                return "negative"
            case int() | float():
                return "number"
            case [*items] if all(isinstance(i, int) for i in items):
                return f"int list of {len(items)}"
            case _:
                return "other"
    return await asyncio.gather(*(one(v) for v in values))


print(asyncio.run(handle()))
print(asyncio.run(classify_all([-1, 2, 2.5, [1, 2], [1, "x"], None])))
print(replay([("quit", "now", "please")]))
r = router()
r.send(("ping", 0))
