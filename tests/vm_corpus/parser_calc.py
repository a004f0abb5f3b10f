"""A tokenizer (generator) and recursive-descent calculator with error reporting via exceptions."""
import re


class ParseError(Exception):
    def __init__(self, message, position):
        super().__init__(f"{message} at position {position}")
        self.position = position


TOKEN = re.compile(r"\s*(?:(\d+\.?\d*)|(\*\*|[-+*/()%])|(\w+)|(\S))")


def tokenize(text):
    for match in TOKEN.finditer(text):
        number, op, name, junk = match.groups()
        if junk:
            raise ParseError(f"unexpected {junk!r}", match.start(4))
        yield (("num", float(number)) if number else ("op", op) if op else ("name", name)), match.start()
    yield ("end", None), len(text)


class Parser:
    def __init__(self, text, variables):
        self.tokens = list(tokenize(text))
        self.index = 0
        self.variables = variables

    def peek(self):
        return self.tokens[self.index][0]

    def take(self, kind=None, value=None):
        (k, v), pos = self.tokens[self.index]
        if (kind and k != kind) or (value and v != value):
            raise ParseError(f"expected {value or kind}, got {v!r}", pos)
        self.index += 1
        return v

    def expression(self):
        value = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self):
        value = self.power()
        while self.peek() in (("op", "*"), ("op", "/"), ("op", "%")):
            op = self.take()
            right = self.power()
            try:
                value = value * right if op == "*" else value / right if op == "/" else value % right
            except ZeroDivisionError:
                raise ParseError("division by zero", self.tokens[self.index - 1][1]) from None
        return value

    def power(self):
        base = self.unary()
        if self.peek() == ("op", "**"):
            self.take()
            return base ** self.power()
        return base

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return -self.unary()
        return self.atom()

    def atom(self):
        kind, value = self.peek()
        if kind == "num":
            return self.take()
        if kind == "name":
            self.take()
            try:
                return self.variables[value]
            except KeyError:
                raise NameError(f"unknown variable {value!r}")
        self.take("op", "(")
        result = self.expression()
        self.take("op", ")")
        return result


def evaluate(text, **variables):
    parser = Parser(text, variables)
    result = parser.expression()
    parser.take("end")
    return result


for source in ("1 + 2 * 3", "2 ** 3 ** 2", "-(4 - 6) * x", "10 / (5 - 5)", "3 +", "2 $ 3", "y * 2", "(1 + 2"):
    try:
        print(f"{source!r} = {evaluate(source, x=2.5)}")
    except ParseError as e:
        print(f"{source!r}: ParseError: {e} [{e.position}]")
    except NameError as e:
        print(f"{source!r}: NameError: {e} (context {type(e.__context__).__name__})")
