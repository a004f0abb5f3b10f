"""Sorting algorithms written out: quicksort, mergesort, heapsort, insertion, radix, counting; checked against sorted()."""

import random


def quicksort(items):
    if len(items) <= 1:
        return items
    pivot = items[len(items) // 2]
    return (quicksort([x for x in items if x < pivot]) + [x for x in items if x == pivot]
            + quicksort([x for x in items if x > pivot]))


def mergesort(items):
    if len(items) <= 1:
        return items[:]
    middle = len(items) // 2
    left, right = mergesort(items[:middle]), mergesort(items[middle:])
    merged, i, j = [], 0, 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            merged.append(left[i])
            i += 1
        else:
            merged.append(right[j])
            j += 1
    return merged + left[i:] + right[j:]


def heapsort(items):
    a = items[:]
    n = len(a)

    def sift(start, end):
        root = start
        while 2 * root + 1 < end:
            child = 2 * root + 1
            if child + 1 < end and a[child] < a[child + 1]:
                child += 1
            if a[root] >= a[child]:
                return
            a[root], a[child] = a[child], a[root]
            root = child

    for start in range(n // 2 - 1, -1, -1):
        sift(start, n)
    for end in range(n - 1, 0, -1):
        a[0], a[end] = a[end], a[0]
        sift(0, end)
    return a


def insertion(items):
    a = items[:]
    for i in range(1, len(a)):
        key, j = a[i], i - 1
        while j >= 0 and a[j] > key:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = key
    return a


def radix(items, base=10):
    a, exponent = items[:], 1
    while a and max(a) // exponent:
        buckets = [[] for _ in range(base)]
        for x in a:
            buckets[x // exponent % base].append(x)
        a = [x for bucket in buckets for x in bucket]
        exponent *= base
    return a


def counting(items):
    if not items:
        return []
    low = min(items)
    counts = [0] * (max(items) - low + 1)
    for x in items:
        counts[x - low] += 1
    return [i + low for i, c in enumerate(counts) for _ in range(c)]


rng = random.Random(42)
data = [rng.randrange(1000) for _ in range(60)]
expected = sorted(data)
for algorithm in (quicksort, mergesort, heapsort, insertion, radix, counting):
    result = algorithm(data)
    print(f"{algorithm.__name__:10} ok={result == expected} first={result[:5]}")
print(data == [rng2 for rng2 in data], expected[-3:], counting([-3, 5, -3, 0]), quicksort([]))
words = [rng.choice(["pear", "fig", "apple", "kiwi", "date"]) for _ in range(10)]
print(mergesort(words), heapsort(words) == sorted(words))
radix([-1, 2])
