"""assert, raise of classes and instances, bad raises, exception attributes."""


def check(value):
    assert value > 0, f"not positive: {value}"
    assert value < 100
    return value


for v in (5, -1, 200):
    try:
        print(check(v))
    except AssertionError as e:
        print("AssertionError", repr(e.args))


class AppError(Exception):
    def __init__(self, code):
        Exception.__init__(self, f"code {code}")
        self.code = code


try:
    raise AppError(7)
except AppError as e:
    print(e, e.code, e.args)
try:
    raise StopIteration
except StopIteration as e:
    print("class raised:", type(e).__name__, e.args)
try:
    raise 5
except TypeError as e:
    print(e)
try:
    raise ValueError from 3
except TypeError as e:
    print(e)
try:
    raise
except RuntimeError as e:
    print(e)
try:
    raise KeyboardInterrupt
except BaseException as e:
    print("base", type(e).__name__)
raise AppError(99)
