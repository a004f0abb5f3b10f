"""Closures and scopes: nonlocal counters, late binding, closures over loop variables, global, del, class scopes."""

total = 0


def make_counter(start=0, step=1):
    count = start

    def increment():
        nonlocal count
        count += step
        return count

    def reset():
        nonlocal count
        count = start

    increment.reset = reset
    return increment


def make_accumulators():
    history = []

    def add(x):
        history.append(x)
        return sum(history)

    def undo():
        return history.pop() if history else None

    return add, undo, lambda: list(history)


def late_binding():
    late = [lambda: i for i in range(3)]
    early = [lambda i=i: i for i in range(3)]
    return [f() for f in late], [f() for f in early]


def bump_global(n):
    global total
    total += n
    return total


def shadow():
    total = "local"
    return total


def nested_levels():
    a = 1

    def level2():
        b = 2

        def level3():
            nonlocal a, b
            a, b = a * 10, b * 10
            return a + b
        return level3
    f = level2()
    return f(), f(), a


def deleter():
    x = 5
    del x
    try:
        return x
    except UnboundLocalError as error:
        return f"UnboundLocalError: {error}"


class Outer:
    value = "class attribute"
    doubled = [c * 2 for c in "ab"]

    def method(self):
        return value if "value" in globals() else "module has no value"


c = make_counter(10, 5)
print(c(), c(), c())
c.reset()
print(c(), c.__closure__ is not None, c.__closure__[0].cell_contents, callable(c.reset))
add, undo, peek = make_accumulators()
print(add(3), add(4), undo(), add(10), peek())
print(late_binding())
print(bump_global(5), bump_global(7), total, shadow(), total)
print(nested_levels())
print(deleter())
print(Outer().method(), Outer.doubled)
generated = {}
for name in ("alpha", "beta"):
    def greeter(who, _name=name):
        return f"{_name} greets {who}"
    generated[name] = greeter
print(generated["alpha"]("x"), generated["beta"]("y"))
temp = 1
del temp
print("temp" in globals())


def broken():
    print(undefined_later)
    undefined_later = 1


broken()
