"""Generators over recursive structures: yield from tree walks, path enumeration, permutations, and a tokenizer."""

from dataclasses import dataclass, field


@dataclass
class Node:
    name: str
    children: list = field(default_factory=list)
    size: int = 0


def walk(node, depth=0):
    yield depth, node
    for child in node.children:
        yield from walk(child, depth + 1)


def paths(node, prefix=()):
    here = prefix + (node.name,)
    if not node.children:
        yield "/".join(here)
    for child in node.children:
        yield from paths(child, here)


def total_size(node):
    return node.size + sum(total_size(c) for c in node.children)


def breadth_first(root):
    level = [root]
    while level:
        yield [n.name for n in level]
        level = [c for n in level for c in n.children]


def tokens(text):
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isdigit():
            j = i
            while j < len(text) and text[j].isdigit():
                j += 1
            yield "NUM", int(text[i:j])
            i = j
        elif ch.isalpha():
            j = i
            while j < len(text) and text[j].isalnum():
                j += 1
            yield "ID", text[i:j]
            i = j
        else:
            yield "OP", ch
            i += 1


def permute(items):
    if not items:
        yield ()
        return
    for i, item in enumerate(items):
        for rest in permute(items[:i] + items[i + 1:]):
            yield (item,) + rest


tree = Node("root", [Node("src", [Node("main.py", size=120), Node("util.py", size=40)]),
                     Node("docs", [Node("index.md", size=15)]), Node("LICENSE", size=1)])
for depth, node in walk(tree):
    print("  " * depth + node.name + (f" ({node.size})" if node.size else ""))
print(list(paths(tree)))
print(total_size(tree), list(breadth_first(tree)))
print(list(tokens("x1 = 42 + y * (7-z)")))
print(list(permute("abc")), sum(1 for _ in permute(range(5))))
big = max(walk(tree), key=lambda pair: pair[1].size)
print(big[1].name, big[0])
walker = walk(tree)
next(walker)
walker.throw(RuntimeError("stop walking"))
