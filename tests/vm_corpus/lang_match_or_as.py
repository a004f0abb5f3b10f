"""match: or-patterns binding names in different orders, as-patterns, captures in every scope."""


def swap_order(value):
    match value:
        case [a, b, c] | (c, b, a, "rev") | {"c": c, "a": a, "b": b}:
            return a, b, c
        case (1, x) | (x, 2) | [3, [x]]:
            return ("x", x)
        case _:
            return None


for item in [[1, 2, 3], (1, 2, 3, "rev"), {"a": 1, "b": 2, "c": 3}, (1, 9), (8, 2), [3, [7]], "xyz"]:
    print(item, "->", swap_order(item))


def nested_or(value):
    match value:
        case [(0 | 1) as bit, *bits] if all(b in (0, 1) for b in bits):
            return f"binary {bit}{''.join(map(str, bits))}"
        case [("a" | "b") as head, ("c" | "d") as tail] | [tail, head, "swap"]:
            return f"head={head} tail={tail}"
        case ((int() | float()) as number) as again:
            return f"number {number} {again is number}"
        case (str() as text) | [text, *_]:
            return f"text-ish {text!r}"
    return "none"


for item in [[1, 0, 1], [0, 2], ["a", "d"], ["x", "y", "swap"], 3, 4.5, "s", ["t", 1], []]:
    print(item, "->", nested_or(item))


class Config:
    """Captures in a class body become class attributes."""

    match {"mode": "fast", "level": 3}:
        case {"mode": mode, "level": level}:
            label = f"{mode}-{level}"


print(Config.mode, Config.level, Config.label)

# Module level captures are globals.
match (1, (2, 3)):
    case (first, (second, third) as pair):
        print(first, second, third, pair)
print(sorted(k for k in ("first", "second", "third", "pair") if k in globals()))


def closures():
    handlers = []
    for item in [("add", 1), ("mul", 3), ("neg",)]:
        match item:
            case ("add", n):
                handlers.append(lambda v, n=n: v + n)
            case ("mul", n):
                handlers.append(lambda v, n=n: v * n)
            case (name,):
                handlers.append(lambda v: -v)
    value = 2
    for handler in handlers:
        value = handler(value)
    return value, name


print(closures())


def captured_by_inner():
    match [10, 20]:
        case [low, high]:
            pass

    def inner():
        return high - low
    return inner()


print(captured_by_inner())


def generator_matcher(items):
    for item in items:
        match item:
            case int(n) | [int(n)]:
                yield n
            case str(s) | [str(s)]:
                yield from s
            case _:
                continue


print(list(generator_matcher([1, "ab", [2], ["cd"], None, 3.0])))

# Partial matches do not bind: z stays unbound when the sequence fails after z.
try:
    match [1, 2]:
        case [z, 3]:
            pass
    print(z)
except NameError as error:
    print("NameError:", error)

print([m for v in ([1], [2, 3], "no", [4]) for m in [v] if (lambda w: isinstance(w, list))(m)])
results = []
for item in [{"op": "+", "args": [1, 2]}, {"op": "-", "args": [5]}, {"op": "?"}]:
    match item:
        case {"op": "+" | "add" as op, "args": [a, b]}:
            results.append((op, a + b))
        case {"op": ("-" | "neg") as op, "args": [a]}:
            results.append((op, -a))
        case {"op": op}:
            results.append((op, None))
print(results)
