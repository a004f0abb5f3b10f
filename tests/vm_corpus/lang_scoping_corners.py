"""Scoping corners: class-body comprehensions, __class__, super() without arguments, evaluation order, star-indexing."""

class A:
    x = 5
    try:
        ys = [x for _ in range(2)]
    except NameError as e:
        ys = str(e)
    zs = [i for i in range(x)]
    __private = 3
    mangled = [__private for _ in "a"] if False else None
    def method(self):
        return __class__.__name__, self.__private
print(A.ys, A.zs, A().method())
class B:
    def f(self):
        def inner():
            return super().f
        try:
            return inner()
        except RuntimeError as e:
            return str(e)
print(B().f())
log = []
def idx(n):
    log.append(n); return n
d = {}
d[idx(1)] = d[idx(2)] = idx(3)
arr = [0, 0, 0]
arr[idx(0)] += idx(5)
print(d, arr, log)
import array
class Grid:
    def __getitem__(self, key):
        return key
g = Grid()
idxs = (1, 2)
print(g[*idxs], g[0, *idxs], g[1:2, ::3])
counter = 0
class Cfg:
    global counter
    counter += 1
print(counter)
class Outer:
    val = 10
    f = lambda self, v=val: v
print(Outer().f())
if counter:
    def cond(): return "first"
else:
    def cond(): return "second"
print(cond())
def outer():
    n = 0
    class Local:
        def bump(self):
            nonlocal n
            n += 1
            return n
    l = Local()
    l.bump(); l.bump()
    return n
print(outer())
x = [1, 2, 3]
x[1:2] = x
print(x)
a = b = c = []
a.append(1)
print(b, c is a)
i = 10
print([i for i in range(3)], i)
t = 1, 
print(t, (1), (1,), ())
print(*[1, 2], sep="-", end="!\n")
print(type(...), ... is Ellipsis, NotImplemented)
def kw(**kwargs): return kwargs
print(kw(**{"a": 1}, **{"b": 2}))
try:
    kw(**{"a": 1}, **{"a": 2})
except TypeError as e:
    print(e)
print(f"{'a' if True else 'b'}", f"{3!r:>4}", f"{{x}}")
print(0 or None, None or 0, [] and 1)
print(divmod(-7, 3), -7 // 3, round(-2.5), abs(-0.0))


class NoSelf:
    def method(*args):
        return super().method()


NoSelf().method()
