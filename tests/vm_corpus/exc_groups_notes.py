"""Exception notes, ExceptionGroup caught as a whole, exception attributes and traceback objects."""
import sys
import traceback


def validate(record):
    problems = []
    for key in ("id", "name"):
        try:
            if key not in record:
                raise KeyError(key)
        except KeyError as e:
            e.add_note(f"while validating {record!r}")
            problems.append(e)
    if problems:
        raise ExceptionGroup("invalid record", problems)


try:
    validate({"name": "x"})
    validate({})
except ExceptionGroup as group:
    print(group, [repr(e) for e in group.exceptions], group.exceptions[0].__notes__)
    matched, rest = group.split(KeyError)
    print(type(matched).__name__, rest)
try:
    try:
        raise OSError(2, "No such file")
    except OSError as e:
        print(e.errno, e.strerror, e.args, type(e.__traceback__).__name__, e.__traceback__.tb_lineno > 0)
        raise
except OSError as again:
    print("re-raised same object:", again.errno)
try:
    raise ValueError("with note")
except ValueError as e:
    e.add_note("first note")
    e.add_note("second note")
    print(traceback.format_exception_only(type(e), e))
print(sys.exc_info())


class Retry(Exception):
    def __init__(self, attempts):
        super().__init__(attempts)
        self.attempts = attempts

    def __str__(self):
        return f"gave up after {self.attempts} attempts"


try:
    raise Retry(3)
except Retry as e:
    print(e, e.args, isinstance(e, Exception))
