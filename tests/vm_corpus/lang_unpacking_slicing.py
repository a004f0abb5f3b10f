"""Star-unpacking, extended slicing, slice objects, slice assignment and deletion, walrus in loops."""

first, *middle, last = range(7)
print(first, middle, last)
head, *tail = "hello"
*init, end = [1]
print(head, tail, init, end)
(a, b), [c, *d], e = (1, 2), [3, 4, 5], 6
print(a, b, c, d, e)
merged = [*range(3), *"ab", *{"k": 1}]
print(merged, (*merged[:2], "tail"), {*"aab", *[1]} >= {1}, {**{"a": 1}, "b": 2, **{"a": 3}})


def spread(*args, **kwargs):
    return args, kwargs


print(spread(*[1, 2], 3, *(4,), key="v", **{"other": 5}))
for index, (name, *scores) in enumerate([("ann", 90, 85), ("bob", 70)]):
    print(index, name, scores)
data = list(range(20))
print(data[::3], data[-4:], data[15:5:-2], data[::-1][:3], data[100:], data[-100:2])
text = "abcdefghij"
print(text[1:8:2], text[::-2], text[slice(2, None, 3)], text[slice(None)], text[3:3] == "")
section = slice(2, 10, 3)
print(section.indices(7), section.start, section.step, data[section])
letters = list("abcdefgh")
letters[2:5] = ["X"]
print(letters)
letters[::2] = "1234"
print(letters)
del letters[1::3]
print(letters)
letters[len(letters):] = ["end"]
letters[:0] = ["start"]
print(letters)
buffer = bytearray(b"0123456789")
buffer[2:4] = b"--"
del buffer[-3:]
print(buffer, memoryview(b"abcdef")[1:4].tobytes(), bytes(range(5))[::2])
pairs = [(1, "one"), (2, "two")]
numbers, words = zip(*pairs)
print(numbers, words)
stream = iter([3, 1, 4, 1, 5, 9, 2, 6])
chunks = []
while (chunk := [v for _, v in zip(range(3), stream)]):
    chunks.append(chunk)
print(chunks)
values = [10, 20, 30]
values[1:2] = []
print(values, values[-1:] + values[:1])
x, y = y, x = 1, 2
print(x, y)
try:
    letters[::2] = ["too", "few"]
except ValueError as error:
    print("ValueError:", error)
one, two = [1, 2, 3]
