"""operator and copy: itemgetter/attrgetter/methodcaller, operator functions, shallow vs deep copies with __deepcopy__."""

import copy
import operator
from functools import reduce


class Node:
    def __init__(self, value, children=()):
        self.value = value
        self.children = list(children)
        self.parent = None
        for child in self.children:
            child.parent = self

    def __repr__(self):
        return f"Node({self.value}, {self.children})" if self.children else f"Node({self.value})"


class Config:
    def __init__(self, name, options):
        self.name, self.options, self.copies = name, options, 0

    def __copy__(self):
        clone = Config(self.name, self.options)
        clone.copies = self.copies + 1
        return clone

    def __deepcopy__(self, memo):
        clone = Config(copy.deepcopy(self.name, memo), copy.deepcopy(self.options, memo))
        clone.copies = self.copies + 10
        return clone


records = [{"name": "b", "age": 30}, {"name": "a", "age": 25}, {"name": "c", "age": 30}]
print(sorted(records, key=operator.itemgetter("age", "name")), list(map(operator.itemgetter("name"), records)))
point = Node(5)
print(operator.attrgetter("value")(point), operator.methodcaller("split", ",")("a,b,c"), operator.methodcaller("pad") if False else "")
print(reduce(operator.mul, range(1, 8)), operator.add("a", "b"), operator.neg(4), operator.truth([]), operator.contains("abc", "b"))
print(operator.getitem([1, 2, 3], slice(1, None)), operator.index(7), operator.xor(6, 3), operator.concat([1], [2]))
x = [1, 2]
operator.iadd(x, [3])
operator.setitem(x, 0, "first")
operator.delitem(x, 1)
print(x, operator.is_(None, None), operator.countOf([1, 2, 1], 1), operator.indexOf("hello", "l"))
tree = Node(1, [Node(2, [Node(3)]), Node(4)])
shallow, deep = copy.copy(tree), copy.deepcopy(tree)
tree.children[0].value = 20
print(shallow.children[0].value, deep.children[0].value, deep.children[0].parent is deep, shallow.children is tree.children)
nested = {"list": [1, [2, 3]], "tuple": (1, [2])}
clone = copy.deepcopy(nested)
nested["list"][1].append(4)
print(clone, nested)
shared = [1]
pair = [shared, shared]
pair_copy = copy.deepcopy(pair)
print(pair_copy[0] is pair_copy[1], copy.copy((1, 2)) is not None)
cfg = Config("main", {"debug": True})
print(copy.copy(cfg).copies, copy.deepcopy(cfg).copies, copy.deepcopy(cfg).options is cfg.options)
print(operator.lt(1, 2), operator.itemgetter(1, 0)("ab"), operator.attrgetter("parent.value")(tree.children[0]))
operator.itemgetter(5)([1, 2])
