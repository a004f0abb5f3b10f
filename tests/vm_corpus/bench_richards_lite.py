"""A compact Richards-style scheduler: task control blocks, packets, device and handler tasks."""

IDLE, WORKER, HANDLER_A, HANDLER_B, DEVICE_A, DEVICE_B = range(6)
KIND_DEVICE, KIND_WORK = 0, 1


class Packet:
    def __init__(self, link, ident, kind):
        self.link, self.ident, self.kind = link, ident, kind
        self.datum = 0
        self.data = [0] * 4

    def append_to(self, queue):
        self.link = None
        if queue is None:
            return self
        node = queue
        while node.link is not None:
            node = node.link
        node.link = self
        return queue


class Task:
    def __init__(self, scheduler, ident, priority, queue, fn):
        self.scheduler, self.ident, self.priority, self.queue, self.fn = scheduler, ident, priority, queue, fn
        self.held = False
        self.waiting = queue is None
        self.state = {"count": 0, "dest": HANDLER_A, "work": None, "device": None}

    def runnable(self):
        return not self.held and (not self.waiting or self.queue is not None)


class Scheduler:
    def __init__(self):
        self.tasks = {}
        self.hold_count = 0
        self.queue_count = 0
        self.trace = []

    def add(self, ident, priority, queue, fn):
        self.tasks[ident] = Task(self, ident, priority, queue, fn)

    def schedule(self, limit):
        steps = 0
        while steps < limit:
            candidates = [t for t in self.tasks.values() if t.runnable()]
            if not candidates:
                break
            task = max(candidates, key=lambda t: t.priority)
            packet = None
            if task.queue is not None:
                packet, task.queue = task.queue, task.queue.link
                task.waiting = task.queue is None
            task.fn(task, packet)
            steps += 1
        return steps

    def send(self, packet, dest):
        self.queue_count += 1
        target = self.tasks[dest]
        packet.link = None
        packet.ident = dest
        target.queue = packet.append_to(target.queue)
        target.waiting = False


def idle_fn(task, packet):
    task.state["count"] += 1
    if task.state["count"] > 40:
        task.held = True
        task.scheduler.hold_count += 1
        return
    dev = DEVICE_A if task.state["count"] % 2 else DEVICE_B
    task.scheduler.tasks[dev].held = False


def worker_fn(task, packet):
    if packet is None:
        task.waiting = True
        return
    dest = task.state["dest"] = HANDLER_B if task.state["dest"] == HANDLER_A else HANDLER_A
    packet.datum = 0
    for i in range(4):
        task.state["count"] = task.state["count"] % 26 + 1
        packet.data[i] = ord("A") + task.state["count"] - 1
    task.scheduler.send(packet, dest)


def handler_fn(task, packet):
    if packet is not None:
        task.scheduler.trace.append(("handler", task.ident, packet.kind))
        if packet.kind == KIND_WORK:
            task.state["work"] = packet
        else:
            task.state["device"] = packet
    work, device = task.state["work"], task.state["device"]
    if work is not None and device is not None:
        device.datum = work.data[work.datum % 4]
        work.datum += 1
        task.state["device"] = None
        task.scheduler.send(device, DEVICE_A if task.ident == HANDLER_A else DEVICE_B)
        if work.datum >= 4:
            task.state["work"] = None
            task.scheduler.send(work, WORKER)
    else:
        task.waiting = True


def device_fn(task, packet):
    if packet is None:
        task.held = True
        return
    task.scheduler.trace.append(("device", task.ident, chr(packet.datum)))
    task.scheduler.send(packet, HANDLER_A if task.ident == DEVICE_A else HANDLER_B)


s = Scheduler()
s.add(IDLE, 0, None, idle_fn)
work_queue = Packet(Packet(None, WORKER, KIND_WORK), WORKER, KIND_WORK)
s.add(WORKER, 1000, work_queue, worker_fn)
queue_a = Packet(Packet(Packet(None, DEVICE_A, KIND_DEVICE), DEVICE_A, KIND_DEVICE), DEVICE_A, KIND_DEVICE)
s.add(HANDLER_A, 2000, queue_a, handler_fn)
queue_b = Packet(Packet(Packet(None, DEVICE_B, KIND_DEVICE), DEVICE_B, KIND_DEVICE), DEVICE_B, KIND_DEVICE)
s.add(HANDLER_B, 3000, queue_b, handler_fn)
s.add(DEVICE_A, 4000, None, device_fn)
s.add(DEVICE_B, 5000, None, device_fn)
steps = s.schedule(3000)
print(steps, s.queue_count, s.hold_count, len(s.trace))
print("".join(c for kind, _, c in s.trace if kind == "device")[:60])
