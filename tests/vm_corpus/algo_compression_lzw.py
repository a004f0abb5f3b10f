"""LZW and run-length compression, a Bloom filter, and a simple open-addressing hash map."""

import hashlib


def lzw_compress(text):
    table = {chr(i): i for i in range(256)}
    current, out = "", []
    for ch in text:
        if current + ch in table:
            current += ch
        else:
            out.append(table[current])
            table[current + ch] = len(table)
            current = ch
    if current:
        out.append(table[current])
    return out


def lzw_decompress(codes):
    table = {i: chr(i) for i in range(256)}
    previous = table[codes[0]]
    out = [previous]
    for code in codes[1:]:
        entry = table[code] if code in table else previous + previous[0]
        out.append(entry)
        table[len(table)] = previous + entry[0]
        previous = entry
    return "".join(out)


class BloomFilter:
    def __init__(self, bits, hashes):
        self.size, self.hashes, self.array = bits, hashes, 0

    def _positions(self, item):
        digest = hashlib.sha256(item.encode()).digest()
        return [int.from_bytes(digest[4 * i:4 * i + 4], "big") % self.size for i in range(self.hashes)]

    def add(self, item):
        for p in self._positions(item):
            self.array |= 1 << p

    def __contains__(self, item):
        return all(self.array >> p & 1 for p in self._positions(item))


class OpenHashMap:
    _DELETED = object()

    def __init__(self, capacity=8):
        self.keys = [None] * capacity
        self.values = [None] * capacity
        self.count = 0

    def _slot(self, key):
        index = sum(ord(c) * 31 ** i for i, c in enumerate(str(key))) % len(self.keys)
        while self.keys[index] is not None and self.keys[index] != key:
            index = (index + 1) % len(self.keys)
        return index

    def __setitem__(self, key, value):
        if (self.count + 1) * 3 > len(self.keys) * 2:
            items = [(k, v) for k, v in zip(self.keys, self.values) if k is not None]
            self.keys, self.values, self.count = [None] * (2 * len(self.keys)), [None] * (2 * len(self.keys)), 0
            for k, v in items:
                self[k] = v
        index = self._slot(key)
        if self.keys[index] is None:
            self.count += 1
        self.keys[index], self.values[index] = key, value

    def __getitem__(self, key):
        index = self._slot(key)
        if self.keys[index] is None:
            raise KeyError(key)
        return self.values[index]

    def __len__(self):
        return self.count


TEXT = "TOBEORNOTTOBEORTOBEORNOT" * 2
codes = lzw_compress(TEXT)
print(len(TEXT), "->", len(codes), codes[:12], lzw_decompress(codes) == TEXT)
print(lzw_decompress(lzw_compress("abababababab")), lzw_compress("aaaa"))
bloom = BloomFilter(256, 3)
for word in ["apple", "banana", "cherry", "date"]:
    bloom.add(word)
print([w in bloom for w in ["apple", "cherry", "grape", "melon", "date"]], bin(bloom.array).count("1"))
table = OpenHashMap()
for i, word in enumerate("the quick brown fox jumps over the lazy dog".split()):
    table[word] = i
print(len(table), table["the"], table["dog"], len(table.keys))
table["unicorn"]
