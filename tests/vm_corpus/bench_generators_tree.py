"""Generators benchmark shape: in-order traversal of a balanced binary tree by nested generators, repeated."""


class Tree:
    def __init__(self, left, value, right):
        self.left, self.value, self.right = left, value, right

    def __iter__(self):
        if self.left:
            yield from self.left
        yield self.value
        if self.right:
            yield from self.right


def build(values):
    if not values:
        return None
    middle = len(values) // 2
    return Tree(build(values[:middle]), values[middle], build(values[middle + 1:]))


def depth(tree):
    return 0 if tree is None else 1 + max(depth(tree.left), depth(tree.right))


def traverse_manually(tree):
    stack, node, out = [], tree, []
    while stack or node:
        while node:
            stack.append(node)
            node = node.left
        node = stack.pop()
        out.append(node.value)
        node = node.right
    return out


tree = build(list(range(200)))
for repeat in range(3):
    values = list(tree)
    assert values == list(range(200)), repeat
print("depth", depth(tree), "sum", sum(tree), "manual agrees", traverse_manually(tree) == list(tree))
evens = (v for v in tree if v % 2 == 0)
print(next(evens), next(evens), sum(1 for _ in evens))
it = iter(tree)
print([next(it) for _ in range(5)], max(it))
letters = build(list("generators"))
print("".join(letters), sorted(set(letters)) == sorted(set("generators")))
