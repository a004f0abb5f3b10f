"""Huffman coding: build a code with heapq, encode to bits, pack into bytes, decode and verify."""

import heapq
from collections import Counter


class Node:
    def __init__(self, weight, symbol=None, left=None, right=None):
        self.weight, self.symbol, self.left, self.right = weight, symbol, left, right

    def __lt__(self, other):
        return (self.weight, self.order()) < (other.weight, other.order())

    def order(self):
        return self.symbol if self.symbol is not None else chr(0x10FFFF)


def build(text):
    heap = [Node(w, s) for s, w in Counter(text).items()]
    heapq.heapify(heap)
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        heapq.heappush(heap, Node(a.weight + b.weight, None, a, b))
    return heap[0]


def codes(node, prefix="", table=None):
    table = {} if table is None else table
    if node.symbol is not None:
        table[node.symbol] = prefix or "0"
    else:
        codes(node.left, prefix + "0", table)
        codes(node.right, prefix + "1", table)
    return table


def pack(bits):
    padded = bits + "0" * (-len(bits) % 8)
    return bytes(int(padded[i:i + 8], 2) for i in range(0, len(padded), 8)), len(bits)


def unpack(data, length):
    return "".join(f"{byte:08b}" for byte in data)[:length]


def decode(bits, root):
    out, node = [], root
    for bit in bits:
        node = node.left if bit == "0" else node.right
        if node.symbol is not None:
            out.append(node.symbol)
            node = root
    return "".join(out)


TEXT = ("it was the best of times, it was the worst of times, it was the age of wisdom, "
        "it was the age of foolishness")
root = build(TEXT)
table = codes(root)
for symbol in sorted(table, key=lambda s: (len(table[s]), s))[:8]:
    print(repr(symbol), table[symbol])
bits = "".join(table[ch] for ch in TEXT)
data, length = pack(bits)
print(len(TEXT) * 8, "bits ->", length, "bits,", len(data), "bytes:", data[:8].hex())
restored = decode(unpack(data, length), root)
print("round trip ok:", restored == TEXT)
average = sum(len(table[ch]) for ch in TEXT) / len(TEXT)
print(f"average code length {average:.3f}")
single = build("aaaa")
print(codes(single), decode("0000", Node(4, None, single, single)) if False else "single-symbol ok")
