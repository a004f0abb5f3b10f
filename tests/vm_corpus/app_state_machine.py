"""A table-driven finite state machine for a vending machine, plus a regex-free lexer built as a DFA."""

from enum import Enum


class S(Enum):
    IDLE = "idle"
    HAS_MONEY = "has money"
    VENDING = "vending"
    OUT_OF_ORDER = "out of order"


class Machine:
    PRICES = {"cola": 150, "chips": 100, "gum": 50}

    def __init__(self, stock):
        self.state, self.credit, self.stock, self.log = S.IDLE, 0, dict(stock), []
        self.table = {
            (S.IDLE, "coin"): self.add_coin, (S.HAS_MONEY, "coin"): self.add_coin,
            (S.HAS_MONEY, "select"): self.select, (S.HAS_MONEY, "refund"): self.refund,
            (S.VENDING, "take"): self.take, (S.OUT_OF_ORDER, "repair"): self.repair,
        }

    def handle(self, event, arg=None):
        action = self.table.get((self.state, event))
        if action is None:
            self.log.append(f"ignored {event} in {self.state.value}")
            return
        action(arg)

    def add_coin(self, amount):
        if amount not in (10, 20, 50, 100):
            self.log.append(f"rejected coin {amount}")
            return
        self.credit += amount
        self.state = S.HAS_MONEY

    def select(self, item):
        price = self.PRICES.get(item)
        if price is None or self.stock.get(item, 0) == 0:
            self.log.append(f"{item} unavailable")
            return
        if self.credit < price:
            self.log.append(f"{item} needs {price - self.credit} more")
            return
        self.credit -= price
        self.stock[item] -= 1
        self.log.append(f"vending {item}, change {self.credit}")
        self.credit = 0
        self.state = S.VENDING if any(self.stock.values()) else S.OUT_OF_ORDER

    def refund(self, _):
        self.log.append(f"refund {self.credit}")
        self.credit, self.state = 0, S.IDLE

    def take(self, _):
        self.state = S.IDLE

    def repair(self, stock):
        self.stock.update(stock)
        self.state = S.IDLE


m = Machine({"cola": 1, "gum": 1})
for event in [("select", "gum"), ("coin", 100), ("coin", 3), ("select", "cola"), ("coin", 50), ("select", "cola"),
              ("coin", 10), ("take",), ("coin", 50), ("select", "chips"), ("select", "gum"), ("take",),
              ("coin", 20), ("repair", {"chips": 5}), ("refund",)]:
    m.handle(*event)
print("\n".join(m.log))
print(m.state, m.stock, m.credit)

TRANSITIONS = {("start", "digit"): "int", ("int", "digit"): "int", ("int", "dot"): "frac", ("frac", "digit"): "frac",
               ("start", "alpha"): "ident", ("ident", "alpha"): "ident", ("ident", "digit"): "ident"}
ACCEPT = {"int": "INT", "frac": "FLOAT", "ident": "NAME"}


def classify(ch):
    return "digit" if ch.isdigit() else "alpha" if ch.isalpha() or ch == "_" else "dot" if ch == "." else "other"


def lex(text):
    tokens, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        state, j, last = "start", i, None
        while j < len(text) and (state, classify(text[j])) in TRANSITIONS:
            state = TRANSITIONS[state, classify(text[j])]
            j += 1
            if state in ACCEPT:
                last = (j, ACCEPT[state])
        if last is None:
            raise SyntaxError(f"unexpected {text[i]!r} at {i}")
        tokens.append((last[1], text[i:last[0]]))
        i = last[0]
    return tokens


print(lex("x1 42 3.14 rate_2 7."))
lex("ok ?")
