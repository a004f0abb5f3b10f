"""Class bodies that bind a name their methods take from the enclosing function (the class passes the cell through)."""

def f():
    x = 1
    class C:
        x = 2
        y = x
        def g(self):
            return x
        class D:
            x = 3
            def h(self):
                return x
        def k(self):
            return __class__.__name__, super().__class__.__name__
    return C().g(), C.y, C.x, C.D().h(), C().k()
print(f())
def counter():
    count = 0
    class Counter:
        count = 100
        def bump(self):
            nonlocal count
            count += 1
            return count
    c = Counter()
    c.bump(); c.bump()
    return count, Counter.count
print(counter())
v = "global"


def uses_before():
    v = "outer"
    class K:
        w = v
        v = "class"
        def m(self):
            return v
    return K.w, K.v, K().m()
print(uses_before())
