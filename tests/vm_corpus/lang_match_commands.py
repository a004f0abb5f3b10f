"""match: a command-driven inventory state machine (tuples, strings, mappings, classes)."""

import collections
from enum import Enum, auto


class State(Enum):
    IDLE = auto()
    RUNNING = auto()
    PAUSED = auto()
    STOPPED = auto()


Order = collections.namedtuple("Order", ["sku", "quantity"])


class Machine:
    def __init__(self):
        self.state = State.IDLE
        self.stock = collections.Counter()
        self.log = []

    def handle(self, command):
        match (self.state, command):
            case (State.STOPPED, _):
                self.log.append("ignored: stopped")
            case (_, "stop"):
                self.state = State.STOPPED
                self.log.append("stop")
            case (State.IDLE | State.PAUSED, "start" | "resume"):
                self.state = State.RUNNING
                self.log.append("running")
            case (State.RUNNING, "pause"):
                self.state = State.PAUSED
                self.log.append("paused")
            case (State.RUNNING, ("add", str(sku), int(n))) if n > 0:
                self.stock[sku] += n
                self.log.append(f"+{n} {sku}")
            case (State.RUNNING, Order(sku, quantity)) if self.stock[sku] >= quantity:
                self.stock[sku] -= quantity
                self.log.append(f"shipped {quantity} {sku}")
            case (State.RUNNING, Order(sku=sku)):
                self.log.append(f"backorder {sku}")
            case (State.RUNNING, {"bulk": [*items]}):
                for item in items:
                    self.handle(item)
            case (state, unknown):
                self.log.append(f"{state.name.lower()} cannot {unknown!r}")


machine = Machine()
COMMANDS = [
    "pause", "start", ("add", "apple", 5), ("add", "pear", 0), Order("apple", 3), Order("apple", 3),
    "pause", ("add", "apple", 1), "resume",
    {"bulk": [("add", "kiwi", 2), Order("kiwi", 1), ("add", "fig", 4), "pause"]},
    "start", Order("fig", 4), ["not", "a", "command"], "stop", "start",
]
for command in COMMANDS:
    machine.handle(command)
print("\n".join(machine.log))
print(sorted(machine.stock.items()), machine.state)


def route(path):
    match path.strip("/").split("/"):
        case [""]:
            return "home"
        case ["users"]:
            return "user list"
        case ["users", user_id] if user_id.isdigit():
            return f"user {int(user_id)}"
        case ["users", user_id, ("posts" | "comments") as kind, *rest]:
            return f"{kind} of {user_id}" + (f" page {rest[0]}" if rest else "")
        case ["static", *parts] if parts:
            return "file " + "/".join(parts)
        case _:
            return "404"


for path in ["/", "/users", "/users/42", "/users/x", "/users/7/posts", "/users/7/comments/3", "/static/css/a.css",
             "/static", "/nope/here"]:
    print(path, "->", route(path))
