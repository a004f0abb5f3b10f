"""A round-robin task scheduler built on generators (send/throw/close), like a tiny OS."""
from collections import deque


class SystemCall:
    pass


class Sleep(SystemCall):
    def __init__(self, ticks):
        self.ticks = ticks


class Kill(SystemCall):
    def __init__(self, tid):
        self.tid = tid


class Scheduler:
    def __init__(self):
        self.ready = deque()
        self.tasks = {}
        self.sleeping = []
        self.next_id = 0
        self.clock = 0
        self.log = []

    def spawn(self, gen):
        self.next_id += 1
        self.tasks[self.next_id] = gen
        self.ready.append((self.next_id, None))
        return self.next_id

    def run(self):
        while self.ready or self.sleeping:
            if not self.ready:
                self.clock += 1
                woken = [s for s in self.sleeping if s[0] <= self.clock]
                self.sleeping = [s for s in self.sleeping if s[0] > self.clock]
                self.ready.extend((tid, self.clock) for _, tid in woken)
                continue
            tid, value = self.ready.popleft()
            gen = self.tasks.get(tid)
            if gen is None:
                continue
            try:
                request = gen.send(value)
            except StopIteration as stop:
                self.log.append(f"task {tid} finished with {stop.value!r}")
                del self.tasks[tid]
                continue
            except Exception as exc:
                self.log.append(f"task {tid} crashed: {exc}")
                del self.tasks[tid]
                continue
            if isinstance(request, Sleep):
                self.sleeping.append((self.clock + request.ticks, tid))
            elif isinstance(request, Kill):
                victim = self.tasks.pop(request.tid, None)
                if victim is not None:
                    victim.close()
                self.ready.append((tid, victim is not None))
            else:
                self.ready.append((tid, request))


def worker(name, steps, log):
    try:
        for i in range(steps):
            now = yield Sleep(1)
            log.append(f"{name} step {i} at {now}")
        return name.upper()
    finally:
        log.append(f"{name} cleanup")


def assassin(target):
    yield Sleep(2)
    ok = yield Kill(target)
    return f"killed={ok}"


def faulty():
    yield Sleep(1)
    raise RuntimeError("disk on fire")


s = Scheduler()
first = s.spawn(worker("a", 3, s.log))
s.spawn(worker("b", 5, s.log))
s.spawn(assassin(first + 1))
s.spawn(faulty())
s.run()
print("\n".join(s.log))
print("clock", s.clock)
