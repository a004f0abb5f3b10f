"""match: a symbolic expression simplifier and differentiator over dataclass trees."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Num:
    value: int


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Add:
    left: object
    right: object


@dataclass(frozen=True)
class Mul:
    left: object
    right: object


@dataclass(frozen=True)
class Pow:
    base: object
    exponent: int


def simplify(expr):
    match expr:
        case Add(Num(a), Num(b)):
            return Num(a + b)
        case Mul(Num(a), Num(b)):
            return Num(a * b)
        case Add(Num(0), e) | Add(e, Num(0)):
            return simplify(e)
        case Mul(Num(1), e) | Mul(e, Num(1)):
            return simplify(e)
        case Mul(Num(0), _) | Mul(_, Num(0)):
            return Num(0)
        case Pow(_, 0):
            return Num(1)
        case Pow(e, 1):
            return simplify(e)
        case Add(left, right):
            new = Add(simplify(left), simplify(right))
            return new if new == expr else simplify(new)
        case Mul(left, right):
            new = Mul(simplify(left), simplify(right))
            return new if new == expr else simplify(new)
        case Pow(base, n):
            return Pow(simplify(base), n)
        case _:
            return expr


def derive(expr, var):
    match expr:
        case Num():
            return Num(0)
        case Var(name) if name == var:
            return Num(1)
        case Var():
            return Num(0)
        case Add(a, b):
            return Add(derive(a, var), derive(b, var))
        case Mul(a, b):
            return Add(Mul(derive(a, var), b), Mul(a, derive(b, var)))
        case Pow(base, n):
            return Mul(Mul(Num(n), Pow(base, n - 1)), derive(base, var))
    raise TypeError(f"cannot derive {expr!r}")


def show(expr):
    match expr:
        case Num(v) if v < 0:
            return f"({v})"
        case Num(v):
            return str(v)
        case Var(n):
            return n
        case Add(a, b):
            return f"({show(a)} + {show(b)})"
        case Mul(a, b):
            return f"{show(a)}*{show(b)}"
        case Pow(b, n):
            return f"{show(b)}^{n}"


def parse(tokens):
    """Tiny recursive-descent parser from a token list, using match on token shapes."""
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def advance():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def atom():
        match advance():
            case "(":
                inner = add()
                advance()
                return inner
            case str(t) if t.isdigit():
                return Num(int(t))
            case str(t) if t.isalpha():
                return Var(t)
            case t:
                raise SyntaxError(f"unexpected token {t!r}")

    def power():
        base = atom()
        if peek() == "^":
            advance()
            return Pow(base, int(advance()))
        return base

    def mul():
        left = power()
        while peek() == "*":
            advance()
            left = Mul(left, power())
        return left

    def add():
        left = mul()
        while peek() == "+":
            advance()
            left = Add(left, mul())
        return left

    return add()


for text in ["x ^ 3 + 2 * x + 1", "x * y + y ^ 2", "( x + 1 ) * ( x + 2 )", "3 * x ^ 2 * 0 + 5", "7"]:
    tree = parse(text.split())
    d = simplify(derive(tree, "x"))
    print(f"d/dx {show(tree)} = {show(d)}")
    print("  simplified:", show(simplify(tree)))

print(simplify(Add(Num(0), Mul(Num(1), Var("z")))))
derive("not an expression", "x")
