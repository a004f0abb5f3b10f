"""match: exceptions raised while matching propagate with the pattern's line; the last one is uncaught."""


class Exploding:
    __match_args__ = ("value",)

    @property
    def value(self):
        raise RuntimeError("attribute exploded")


class Equal:
    def __eq__(self, other):
        raise ArithmeticError(f"cannot compare with {other!r}")


class NotAMapping:
    def __getitem__(self, key):
        return key


def try_match(subject):
    match subject:
        case Exploding(1):
            return "one"
        case [1, 2]:
            return "list"
        case {"k": v}:
            return v
        case _:
            return "other"


for subject in [[1, 2], {"k": 3}, NotAMapping(), Exploding()]:
    try:
        print(try_match(subject))
    except RuntimeError as error:
        print("caught", type(error).__name__, error)

try:
    match 5:
        case Equal.__class__:
            pass
except TypeError as error:
    print("TypeError", error)


def compare(value):
    match Equal():
        case 1:
            return "one"
    return value


try:
    compare(0)
except ArithmeticError as error:
    print("ArithmeticError", error, error.__traceback__ is not None)


def length_fails():
    class Weird(list):
        def __len__(self):
            raise OverflowError("len refused")
    match Weird([1]):
        case [x]:
            return x


try:
    length_fails()
except OverflowError as error:
    print("OverflowError", error)


def lookup(table, key):
    match table:
        case {"entries": {**entries}} if key in entries:
            return entries[key]
        case {"entries": entries}:
            raise KeyError(key)
    raise LookupError("no entries")


print(lookup({"entries": {"a": 1}}, "a"))
try:
    lookup({"entries": {"a": 1}}, "b")
except KeyError as error:
    print("KeyError", error)
lookup([], "a")
