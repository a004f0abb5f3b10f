"""Generator lifecycle: finally on exhaustion/close/garbage collection, gi_* state, re-entrancy errors."""
import gc
import inspect

events = []


def tracked(name):
    events.append(f"{name} started")
    try:
        yield 1
        yield 2
    finally:
        events.append(f"{name} finalized")


g = tracked("exhausted")
print(inspect.getgeneratorstate(g), list(g), inspect.getgeneratorstate(g))
g = tracked("closed")
next(g)
print(inspect.getgeneratorstate(g))
g.close()
print(inspect.getgeneratorstate(g))
g = tracked("collected")
next(g)
del g
gc.collect()
g = tracked("never started")
g.close()
print(events)


def reentrant():
    yield me.send(None)


me = reentrant()
try:
    next(me)
except ValueError as e:
    print(e)


def returns_value():
    yield
    return {"result": 42}


r = returns_value()
next(r)
try:
    next(r)
except StopIteration as stop:
    print(stop.value, stop.args)
try:
    next(r)
except StopIteration as stop:
    print("exhausted again", stop.value)


def echo():
    value = None
    while True:
        try:
            value = yield value
        except GeneratorExit:
            events.append("echo exiting")
            raise
        except Exception as e:
            value = f"handled {type(e).__name__}"


e = echo()
next(e)
print(e.send("a"), e.throw(KeyError), e.throw(ValueError("v")), e.send("b"))
e.close()
print(events[-1])
