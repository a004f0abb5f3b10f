"""Exceptions: explicit and implicit chaining, suppression, add_note, ExceptionGroup split/subgroup, custom hierarchies."""

import traceback


class AppError(Exception):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code

    def __str__(self):
        return f"[{self.code}] {self.args[0]}"


class ConfigError(AppError):
    pass


def load(text):
    try:
        return int(text)
    except ValueError as error:
        raise ConfigError(f"bad number {text!r}", 17) from error


def cleanup_fails():
    try:
        {}["key"]
    except KeyError:
        raise RuntimeError("while handling")


def suppressed():
    try:
        1 / 0
    except ZeroDivisionError:
        raise ValueError("context hidden") from None


for fn, arg in ((load, "12x"), (cleanup_fails, None), (suppressed, None)):
    try:
        fn(arg) if arg is not None else fn()
    except Exception as error:
        cause, context = error.__cause__, error.__context__
        print(type(error).__name__, str(error), "| cause:", type(cause).__name__ if cause else None,
              "| context:", type(context).__name__ if context else None, "| suppress:", error.__suppress_context__)

try:
    load("nope")
except AppError as error:
    error.add_note("while reading settings.ini")
    error.add_note("line 3")
    print(error.__notes__, error.code, isinstance(error, ConfigError))
    lines = traceback.format_exception_only(type(error), error)
    print("".join(lines).strip().splitlines())

group = ExceptionGroup("many", [ValueError("v1"), TypeError("t1"), ExceptionGroup("nested", [ValueError("v2"),
                                                                                             KeyError("k")])])
matched, rest = group.split(ValueError)
print(repr(matched.exceptions[0]), [type(e).__name__ for e in rest.exceptions])
print(group.subgroup((KeyError, TypeError)))
print(len(group.exceptions), str(group), group.message)
derived = group.derive([IndexError("i")])
print(type(derived).__name__, derived.exceptions)
try:
    raise BaseExceptionGroup("base", [ValueError("x")])
except Exception as error:
    print(type(error).__name__, "is an ExceptionGroup:", isinstance(error, ExceptionGroup))
try:
    ExceptionGroup("empty", [])
except ValueError as error:
    print("ValueError:", error)


def deep(n):
    if n == 0:
        raise LookupError("bottom")
    try:
        deep(n - 1)
    except LookupError as error:
        raise LookupError(f"level {n}") from error


try:
    deep(3)
except LookupError as error:
    chain = []
    while error:
        chain.append(str(error))
        error = error.__cause__
    print(" <- ".join(chain))
print(repr(AppError("x", 1)), AppError("y", 2).args, str(KeyError("quoted")), repr(OSError(2, "No such")))
err = OSError(2, "No such file", "x.txt")
print(err.errno, err.strerror, err.filename, type(err).__name__, FileNotFoundError.__mro__[1].__name__)
raise ConfigError("final failure", 99)
