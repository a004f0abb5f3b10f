"""An event bus with decorators for subscription, priorities, wildcard topics, weak unsubscription and error isolation."""

import fnmatch
from collections import defaultdict


class EventBus:
    def __init__(self):
        self.handlers = defaultdict(list)
        self.errors = []
        self.sequence = 0

    def on(self, pattern, priority=0):
        def decorate(fn):
            self.sequence += 1
            self.handlers[pattern].append((-priority, self.sequence, fn))
            self.handlers[pattern].sort(key=lambda entry: entry[:2])
            return fn
        return decorate

    def off(self, fn):
        removed = 0
        for pattern, entries in self.handlers.items():
            kept = [e for e in entries if e[2] is not fn]
            removed += len(entries) - len(kept)
            entries[:] = kept
        return removed

    def emit(self, topic, **payload):
        matching = [e for pattern, entries in self.handlers.items() if fnmatch.fnmatchcase(topic, pattern)
                    for e in entries]
        results = []
        for _, _, fn in sorted(matching, key=lambda e: e[:2]):
            try:
                outcome = fn(topic, **payload)
            except Exception as error:
                self.errors.append(f"{fn.__name__}: {type(error).__name__}: {error}")
                continue
            if outcome is StopPropagation:
                results.append(f"{fn.__name__} stopped")
                break
            results.append(outcome)
        return results


class StopPropagation:
    pass


bus = EventBus()
audit = []


@bus.on("user.*")
def log_user(topic, **payload):
    audit.append((topic, tuple(sorted(payload))))
    return f"logged {topic}"


@bus.on("user.created", priority=10)
def welcome(topic, name, **_):
    return f"welcome {name}"


@bus.on("user.deleted", priority=5)
def guard(topic, name, **_):
    if name == "root":
        return StopPropagation
    return f"deleting {name}"


@bus.on("*")
def count_all(topic, **payload):
    return len(payload)


@bus.on("order.*", priority=1)
def broken(topic, total):
    return 100 / total


print(bus.emit("user.created", name="ann", email="a@x"))
print(bus.emit("user.deleted", name="root"))
print(bus.emit("user.deleted", name="bob"))
print(bus.emit("order.paid", total=0))
print(bus.emit("order.paid", total=4))
print(bus.emit("order.paid", amount=4))
print(bus.errors)
print(bus.off(count_all), bus.emit("system.boot"))
print(audit)
bus.emit("user.created")
