"""Sorting with keys: stability, multi-key, reverse, attrgetter/itemgetter, locale-free natural sort, custom __lt__."""

import re
from operator import attrgetter, itemgetter


class Student:
    def __init__(self, name, grade, age):
        self.name, self.grade, self.age = name, grade, age

    def __repr__(self):
        return f"{self.name}({self.grade},{self.age})"


students = [Student("jane", "B", 12), Student("john", "A", 15), Student("dave", "B", 10), Student("anna", "A", 12),
            Student("zed", "C", 15)]
print(sorted(students, key=attrgetter("grade", "age")))
print(sorted(students, key=lambda s: (-s.age, s.name)))
by_age = sorted(students, key=attrgetter("age"))
print(sorted(by_age, key=attrgetter("grade"), reverse=True))
rows = [("b", 2, 0.5), ("a", 2, 0.1), ("c", 1, 0.9), ("a", 1, 0.3)]
print(sorted(rows, key=itemgetter(1, 0)), sorted(rows, key=itemgetter(2), reverse=True)[0])


def natural_key(text):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


files = ["file10.txt", "File2.txt", "file1.txt", "file20.txt", "file3.TXT", "afile.txt"]
print(sorted(files), sorted(files, key=natural_key), sorted(files, key=str.casefold))
words = "the Quick brown fox Jumps over the lazy Dog".split()
print(sorted(words), sorted(words, key=len), sorted(words, key=lambda w: (len(w), w.lower())))
print(sorted({"b": 3, "a": 3, "c": 1}.items(), key=lambda kv: (-kv[1], kv[0])))


class Version:
    def __init__(self, text):
        self.parts = tuple(int(p) for p in text.split("."))
        self.text = text

    def __lt__(self, other):
        return self.parts < other.parts

    def __repr__(self):
        return self.text


print(sorted([Version("1.10"), Version("1.2"), Version("1.2.1"), Version("0.9")]), max(Version("2.0"), Version("10.0")))
data = [5, 2, 8, 2, 9, 1]
data.sort()
print(data, sorted(data, reverse=True), sorted("banana"), sorted([3, 1, 2], key=None))
mixed = [(1, "b"), (1, "a"), (0, "z")]
mixed.sort(key=itemgetter(0))
print(mixed)
print(sorted([-3, 1, -2, 4], key=abs), min(["x", "yy", "zzz"], key=len), max([], default="empty"))
print(sorted([[2, 1], [1, 9], [1, 2]]), sorted([1.5, True, 0, -2]))
sorted([1, "a", 2.0])
