"""Sorting algorithms written out: quicksort, mergesort (generator merge), heapsort, counting sort."""
import heapq
import random


def quicksort(items):
    if len(items) <= 1:
        return items
    pivot, *rest = items
    return quicksort([x for x in rest if x < pivot]) + [pivot] + quicksort([x for x in rest if x >= pivot])


def merge(left, right):
    i = j = 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            yield left[i]
            i += 1
        else:
            yield right[j]
            j += 1
    yield from left[i:]
    yield from right[j:]


def mergesort(items):
    if len(items) <= 1:
        return list(items)
    mid = len(items) // 2
    return list(merge(mergesort(items[:mid]), mergesort(items[mid:])))


def heapsort(items):
    heap = list(items)
    heapq.heapify(heap)
    return [heapq.heappop(heap) for _ in range(len(heap))]


def counting_sort(items, top):
    counts = [0] * (top + 1)
    for x in items:
        counts[x] += 1
    return [value for value, n in enumerate(counts) for _ in range(n)]


rng = random.Random(42)
data = [rng.randrange(100) for _ in range(200)]
expected = sorted(data)
for sorter in (quicksort, mergesort, heapsort, lambda d: counting_sort(d, 99)):
    print(sorter(data) == expected, end=" ")
print()
print(expected[:10], sorted(["b", "A", "c"], key=str.lower), sorted(data, reverse=True)[:3])
