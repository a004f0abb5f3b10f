"""Trees: an AVL tree with rotations, in/pre/post-order traversal, a trie with autocomplete, and tree printing."""


class AVLNode:
    __slots__ = ("key", "left", "right", "height")

    def __init__(self, key):
        self.key, self.left, self.right, self.height = key, None, None, 1


def height(node):
    return node.height if node else 0


def update(node):
    node.height = 1 + max(height(node.left), height(node.right))


def rotate_right(y):
    x = y.left
    y.left, x.right = x.right, y
    update(y)
    update(x)
    return x


def rotate_left(x):
    y = x.right
    x.right, y.left = y.left, x
    update(x)
    update(y)
    return y


def insert(node, key):
    if node is None:
        return AVLNode(key)
    if key < node.key:
        node.left = insert(node.left, key)
    elif key > node.key:
        node.right = insert(node.right, key)
    else:
        return node
    update(node)
    balance = height(node.left) - height(node.right)
    if balance > 1:
        if key > node.left.key:
            node.left = rotate_left(node.left)
        return rotate_right(node)
    if balance < -1:
        if key < node.right.key:
            node.right = rotate_right(node.right)
        return rotate_left(node)
    return node


def inorder(node):
    if node:
        yield from inorder(node.left)
        yield node.key
        yield from inorder(node.right)


def preorder(node):
    if node:
        yield node.key
        yield from preorder(node.left)
        yield from preorder(node.right)


def render(node, prefix=""):
    if node is None:
        return []
    lines = render(node.right, prefix + "    ")
    lines.append(f"{prefix}{node.key}")
    return lines + render(node.left, prefix + "    ")


class Trie:
    def __init__(self):
        self.root = {}

    def add(self, word, weight=1):
        node = self.root
        for ch in word:
            node = node.setdefault(ch, {})
        node["$"] = node.get("$", 0) + weight

    def complete(self, prefix, limit=3):
        node = self.root
        for ch in prefix:
            if ch not in node:
                return []
            node = node[ch]
        found, stack = [], [(node, prefix)]
        while stack:
            current, text = stack.pop()
            for key, child in current.items():
                if key == "$":
                    found.append((-child, text))
                else:
                    stack.append((child, text + key))
        return [word for _, word in sorted(found)[:limit]]


root = None
for key in [50, 20, 60, 10, 30, 25, 27, 26, 70, 80, 90, 5, 1]:
    root = insert(root, key)
print(list(inorder(root)))
print(list(preorder(root)), "height", root.height)
print("\n".join(render(root)))
trie = Trie()
for word, weight in [("car", 5), ("card", 2), ("care", 7), ("careful", 1), ("cat", 3), ("dog", 4), ("car", 1)]:
    trie.add(word, weight)
print(trie.complete("car"), trie.complete("ca", 5), trie.complete("d"), trie.complete("x"))
print(sorted(trie.root), len(trie.root["c"]["a"]))
insert(root, "string key")
