"""Push-style generator pipelines: coroutine decorators, broadcast, filters and sinks driven by send()."""

import functools


def coroutine(fn):
    @functools.wraps(fn)
    def start(*args, **kwargs):
        gen = fn(*args, **kwargs)
        next(gen)
        return gen
    return start


@coroutine
def grep(pattern, target):
    while True:
        line = yield
        if pattern in line:
            target.send(line)


@coroutine
def transform(fn, target):
    try:
        while True:
            target.send(fn((yield)))
    except GeneratorExit:
        target.close()


@coroutine
def broadcast(*targets):
    while True:
        item = yield
        for target in targets:
            target.send(item)


@coroutine
def collect(bucket, label):
    try:
        while True:
            bucket.append((label, (yield)))
    except GeneratorExit:
        bucket.append((label, "closed"))


@coroutine
def counter(totals):
    while True:
        word = yield
        totals[word] = totals.get(word, 0) + 1


@coroutine
def batcher(size, target):
    batch = []
    try:
        while True:
            batch.append((yield))
            if len(batch) == size:
                target.send(tuple(batch))
                batch = []
    finally:
        if batch:
            target.send(tuple(batch))


LINES = ["error: disk full", "info: started", "error: timeout", "warning: slow", "error: disk full", "info: done"]
bucket, totals = [], {}
errors_upper = transform(str.upper, collect(bucket, "upper"))
pipeline = broadcast(grep("error", errors_upper), grep("info", collect(bucket, "info")),
                     transform(lambda l: l.split(":")[0], counter(totals)))
for line in LINES:
    pipeline.send(line)
errors_upper.close()
print(bucket)
print(totals)
batches = []
b = batcher(4, collect(batches, "batch"))
for n in range(10):
    b.send(n)
b.close()
print(batches)
print(grep.__name__, grep.__wrapped__.__name__)
sink = collect([], "x")
sink.close()
sink.send("after close")
