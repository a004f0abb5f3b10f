"""Implicit (__context__) and explicit (__cause__) chaining, suppression, re-raise."""


def describe(exc):
    parts = []
    while exc is not None:
        parts.append(f"{type(exc).__name__}({exc})")
        if exc.__cause__ is not None:
            parts.append("cause")
            exc = exc.__cause__
        elif exc.__context__ is not None and not exc.__suppress_context__:
            parts.append("context")
            exc = exc.__context__
        else:
            exc = None
    return " <- ".join(parts)


def attempt(fn):
    try:
        fn()
    except Exception as exc:
        print(describe(exc))


def implicit():
    try:
        {}["missing"]
    except KeyError:
        int("x")


def explicit():
    try:
        [][1]
    except IndexError as e:
        raise LookupError("wrapped") from e


def suppressed():
    try:
        1 / 0
    except ZeroDivisionError:
        raise ValueError("clean") from None


def reraise():
    try:
        raise OSError("first")
    except OSError:
        raise


def reraise_named():
    try:
        raise OSError("named")
    except OSError as e:
        raise e


def in_finally():
    try:
        raise KeyError("body")
    finally:
        raise ValueError("finally")


def nested_handlers():
    try:
        raise A("a")
    except A:
        try:
            raise B("b")
        except B:
            raise C("c")


class A(Exception):
    pass


class B(A):
    pass


class C(B):
    pass


def three_levels():
    try:
        try:
            raise A("1")
        except A:
            raise B("2")
    except B:
        raise C("3")


for fn in (implicit, explicit, suppressed, reraise, reraise_named, in_finally, nested_handlers, three_levels):
    attempt(fn)

try:
    raise C("x")
except (KeyError, B) as e:
    print("tuple match", type(e).__name__, isinstance(e, A))
try:
    try:
        raise ValueError("unmatched")
    except KeyError:
        print("not here")
except ValueError as e:
    print("propagated", e, e.__context__)
try:
    try:
        raise ValueError
    except 42:
        pass
except TypeError as e:
    print("bad except", e)
err = None
try:
    raise ValueError("scoped")
except ValueError as err:
    pass
try:
    print(err)
except NameError as e:
    print("name cleared:", e)
