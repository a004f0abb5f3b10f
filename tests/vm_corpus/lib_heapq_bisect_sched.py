"""heapq and bisect: a discrete-event scheduler, k-way merge, top-k, running median and grade lookup."""

import bisect
import heapq


class Scheduler:
    def __init__(self):
        self.queue = []
        self.counter = 0
        self.now = 0
        self.log = []

    def at(self, time, action, *args):
        heapq.heappush(self.queue, (time, self.counter, action, args))
        self.counter += 1

    def run(self, until):
        while self.queue and self.queue[0][0] <= until:
            self.now, _, action, args = heapq.heappop(self.queue)
            action(self, *args)
        return len(self.queue)


def customer(scheduler, name, service):
    scheduler.log.append(f"t={scheduler.now:3} arrive {name}")
    scheduler.at(scheduler.now + service, depart, name)


def depart(scheduler, name):
    scheduler.log.append(f"t={scheduler.now:3} depart {name}")


def generator(scheduler, index):
    if index < 5:
        customer(scheduler, f"c{index}", 7 + 3 * (index % 3))
        scheduler.at(scheduler.now + 4, generator, index + 1)


s = Scheduler()
s.at(0, generator, 0)
pending = s.run(until=20)
print("\n".join(s.log), "\npending", pending)

print(list(heapq.merge([1, 4, 9], [2, 3, 10], [0, 11])), list(heapq.merge(["b", "a"], ["c"], key=str, reverse=True)))
scores = [("ann", 81), ("bob", 95), ("cy", 77), ("dee", 95), ("eve", 60)]
print(heapq.nlargest(3, scores, key=lambda s: s[1]), heapq.nsmallest(2, scores, key=lambda s: s[1]))


class RunningMedian:
    def __init__(self):
        self.low, self.high = [], []

    def add(self, value):
        heapq.heappush(self.low, -value)
        heapq.heappush(self.high, -heapq.heappop(self.low))
        if len(self.high) > len(self.low):
            heapq.heappush(self.low, -heapq.heappop(self.high))

    def median(self):
        if len(self.low) > len(self.high):
            return -self.low[0]
        return (-self.low[0] + self.high[0]) / 2


rm = RunningMedian()
medians = []
for v in [5, 15, 1, 3, 8, 7, 9, 10, 20, 2]:
    rm.add(v)
    medians.append(rm.median())
print(medians)


def grade(score, breakpoints=(60, 70, 80, 90), grades="FDCBA"):
    return grades[bisect.bisect(breakpoints, score)]


print([grade(s) for s in (33, 99, 77, 70, 89, 90, 100)])
ordered = []
for value in [5, 1, 4, 1, 3]:
    bisect.insort(ordered, value)
print(ordered, bisect.bisect_left(ordered, 1), bisect.bisect_right(ordered, 1), bisect.bisect(ordered, 10))
records = sorted([("c", 3), ("a", 1), ("b", 2)])
print(bisect.bisect_left(records, ("b",)), bisect.bisect_left([r[1] for r in records], 2, key=None))
h = [5, 3, 8]
heapq.heapify(h)
print(heapq.heappushpop(h, 1), heapq.heapreplace(h, 10), sorted(h))
heapq.heappop([])
