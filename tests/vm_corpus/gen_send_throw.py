"""Generators as coroutines: send, throw, close, yield from delegation with return values."""


def averager():
    total, count, average = 0.0, 0, None
    while True:
        try:
            value = yield average
        except ValueError as error:
            print("  averager ignored:", error)
            continue
        if value is None:
            return total, count
        total += value
        count += 1
        average = total / count


def grouper(results, key):
    while True:
        results[key] = yield from averager()


def accumulate(log):
    try:
        while True:
            item = yield
            log.append(item)
    except GeneratorExit:
        log.append("closed")
        raise
    finally:
        log.append("finally")


def countdown(n):
    while n > 0:
        received = yield n
        n = n - 1 if received is None else received


data = {"girls;kg": [40.9, 38.5, 44.3], "boys;m": [1.38, 1.5, 1.32]}
results = {}
for key, values in data.items():
    group = grouper(results, key)
    next(group)
    for value in values:
        group.send(value)
    group.throw(ValueError("bad sample"))
    group.send(None)
print({k: (round(t, 2), c) for k, (t, c) in results.items()})

log = []
sink = accumulate(log)
next(sink)
for word in "abc":
    sink.send(word)
sink.close()
sink.close()
print(log)

gen = countdown(10)
print(next(gen), gen.send(3), next(gen), next(gen), list(gen))


def inner():
    try:
        yield 1
        yield 2
    except KeyError as error:
        yield f"inner caught {error}"
    return "inner result"


def outer():
    result = yield from inner()
    yield f"outer got {result}"


g = outer()
print(next(g), g.throw(KeyError("k")), next(g))
try:
    next(g)
except StopIteration as stop:
    print("stopped with", stop.value)


def stubborn():
    try:
        yield 1
    except GeneratorExit:
        yield "refuse"


s = stubborn()
next(s)
try:
    s.close()
except RuntimeError as error:
    print("RuntimeError:", error)
g2 = countdown(2)
print(next(g2))
g2.throw(IndexError("thrown into countdown"))
