"""Iterator classes, __getitem__ iteration, StopIteration handling, iter(callable, sentinel)."""


class Countdown:
    def __init__(self, start):
        self.current = start

    def __iter__(self):
        return self

    def __next__(self):
        if self.current <= 0:
            raise StopIteration
        self.current -= 1
        return self.current + 1


class Squares:
    def __getitem__(self, index):
        if index >= 5:
            raise IndexError(index)
        return index * index


class Tree:
    def __init__(self, value, *children):
        self.value, self.children = value, children

    def __iter__(self):
        yield self.value
        for child in self.children:
            yield from child


print(list(Countdown(4)), list(Squares()), 9 in Squares(), list(Tree(1, Tree(2, Tree(3)), Tree(4))))
it = iter(Countdown(2))
print(next(it), next(it), next(it, "done"))
try:
    next(it)
except StopIteration:
    print("StopIteration escaped next()")
values = iter([3, 2, 1, 0, 5])
print(list(iter(lambda: next(values), 0)))
pairs = dict(zip("abc", Countdown(3)))
a, b, *c = Countdown(5)
print(pairs, a, b, c, sum(Countdown(100)), sorted(Tree(5, Tree(1), Tree(3))))
try:
    x, y = Countdown(3)
except ValueError as e:
    print(e)
try:
    for _ in 5:
        pass
except TypeError as e:
    print(e)
