"""Parser combinators from closures: sequence, choice, many, map, lazy recursion; parses arithmetic and lists."""


class ParseFailure(Exception):
    def __init__(self, expected, position):
        super().__init__(f"expected {expected} at {position}")
        self.expected, self.position = expected, position


def literal(text):
    def parse(source, i):
        if source.startswith(text, i):
            return text, i + len(text)
        raise ParseFailure(repr(text), i)
    return parse


def char_class(predicate, name):
    def parse(source, i):
        if i < len(source) and predicate(source[i]):
            return source[i], i + 1
        raise ParseFailure(name, i)
    return parse


def sequence(*parsers):
    def parse(source, i):
        values = []
        for p in parsers:
            value, i = p(source, i)
            values.append(value)
        return values, i
    return parse


def choice(*parsers):
    def parse(source, i):
        furthest = None
        for p in parsers:
            try:
                return p(source, i)
            except ParseFailure as failure:
                if furthest is None or failure.position > furthest.position:
                    furthest = failure
        raise furthest
    return parse


def many(parser, at_least=0):
    def parse(source, i):
        values = []
        while True:
            try:
                value, i = parser(source, i)
            except ParseFailure:
                break
            values.append(value)
        if len(values) < at_least:
            raise ParseFailure(f"at least {at_least} items", i)
        return values, i
    return parse


def mapped(parser, fn):
    def parse(source, i):
        value, i = parser(source, i)
        return fn(value), i
    return parse


def lazy(thunk):
    def parse(source, i):
        return thunk()(source, i)
    return parse


spaces = many(char_class(str.isspace, "space"))


def token(parser):
    return mapped(sequence(spaces, parser, spaces), lambda v: v[1])


number = token(mapped(many(char_class(str.isdigit, "digit"), 1), lambda ds: int("".join(ds))))
expression = lazy(lambda: sum_expr)
atom = choice(number, mapped(sequence(token(literal("(")), expression, token(literal(")"))), lambda v: v[1]))


def chain(operand, operators):
    def fold(values):
        result, rest = values
        for op, value in rest:
            result = operators[op](result, value)
        return result
    op_parser = choice(*(token(literal(o)) for o in operators))
    return mapped(sequence(operand, many(sequence(op_parser, operand))), fold)


product = chain(atom, {"*": lambda a, b: a * b, "/": lambda a, b: a // b})
sum_expr = chain(product, {"+": lambda a, b: a + b, "-": lambda a, b: a - b})
list_of_numbers = mapped(sequence(token(literal("[")), many(mapped(sequence(number, choice(token(literal(",")),
                                                                                       literal(""))), lambda v: v[0])),
                                  token(literal("]"))), lambda v: v[1])


def parse_all(parser, text):
    value, end = parser(text, 0)
    if end != len(text):
        raise ParseFailure("end of input", end)
    return value


for text in ["1 + 2 * 3", "(1 + 2) * 3", " 10 / 3 - 4 ", "((((7))))", "2 * (3 + 4) * 5 - 6 / 2"]:
    print(f"{text!r} = {parse_all(expression, text)}")
print(parse_all(list_of_numbers, "[1, 2, 3, 40]"), parse_all(list_of_numbers, "[ ]"))
for bad in ["1 +", "(1 + 2", "1 $ 2", ""]:
    try:
        parse_all(expression, bad)
    except ParseFailure as failure:
        print(f"{bad!r}: {failure}")
parse_all(list_of_numbers, "[1, x]")
